public import MeshCore
import Synchronization

/// A libzmq context: the background I/O threads every socket of a process (or of a whole
/// in-process mesh over `inproc://`) shares.
///
/// Every socket keeps a strong reference to its context, so the context cannot be terminated
/// under an open socket (PITFALLS: ARC ending a context early hung release builds). Terminate it
/// explicitly, after everything using it has shut down, with ``terminate()``; `deinit` does it
/// too, as a last resort, on whichever thread drops the last reference. Never keep a context in
/// a top-level global of `main.swift`: globals are never deinitialised and the unsent tail of
/// every socket is lost at exit.
///
/// ```swift
/// let context = try ZeroMQContext()
/// let forwarder = try ZeroMQForwarder(binding: MeshEndpoint("inproc://mesh"), context: context)
/// let transport = try ZeroMQTransport(connectingTo: forwarder.endpoint, context: context)
/// …
/// await transport.shutdown()
/// await forwarder.stop()
/// await context.terminate()
/// ```
public final class ZeroMQContext {
    /// The `void *` of `zmq_ctx_new`; valid until ``terminate()``.
    let handle: ZeroMQSystem.Handle
    private let terminated = Atomic<Bool>(false)

    /// Makes a context with `ioThreads` libzmq I/O threads (one moves about a million small
    /// messages a second; more only help with many tcp connections).
    public init(ioThreads: Int = 1) throws(TransportError) {
        precondition(ioThreads >= 1, "a context needs at least one I/O thread")
        self.handle = try ZeroMQSystem.makeContext(ioThreads: ioThreads)
    }

    /// Whether ``terminate()`` has run.
    public var isTerminated: Bool { self.terminated.load(ordering: .acquiring) }

    /// Terminates the context once every socket in it is closed and their lingering messages are
    /// sent (each socket's linger bounds the wait), on a thread of its own so that the
    /// cooperative pool never blocks. Idempotent.
    ///
    /// Call it after every transport, forwarder and relay stage using the context has stopped;
    /// a socket still open would make it wait until that socket closes.
    public func terminate() async {
        guard self.claimTermination() else { return }
        await IOThread.run(name: "zmq-ctx-term") {
            ZeroMQSystem.terminateContext(self.handle)
        }
    }

    /// Terminates on the calling thread, which may block (I/O threads and `deinit` only).
    func terminateBlocking() {
        guard self.claimTermination() else { return }
        ZeroMQSystem.terminateContext(self.handle)
    }

    private func claimTermination() -> Bool {
        !self.terminated.exchange(true, ordering: .acquiringAndReleasing)
    }

    deinit {
        // Reached only when no socket holds the context any more, so this waits at most for the
        // linger of sockets closed just before.
        self.terminateBlocking()
    }
}

// The handle is immutable and libzmq contexts are thread-safe; termination is claimed atomically once.
extension ZeroMQContext: @unchecked Sendable {}
