internal import CZeroMQ
import MeshCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Dedicated OS threads for blocking libzmq work, which must never run on Swift's cooperative pool.
enum IOThread {
    private final class Start {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts `body` on a new detached thread called `name` (at most 15 bytes show in `top`).
    static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(TransportError) {
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { raw in
                let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
                _ = pthread_setname_np(pthread_self(), IOThread.shortName(start.name))
                start.body()
                return nil
            }, start)
        guard rc == 0 else {
            Unmanaged<Start>.fromOpaque(start).release()
            throw TransportError(.system, errno: rc, "pthread_create(\(name)): \(String(cString: strerror(rc)))")
        }
        pthread_detach(thread)
    }

    /// The longest prefix of `name` that Linux keeps as a thread name (15 bytes), cut between characters.
    static func shortName(_ name: String) -> String {
        var result = ""
        for character in name {
            guard result.utf8.count + character.utf8.count <= 15 else { break }
            result.append(character)
        }
        return result
    }

    /// Runs `body` on a new thread and suspends (without blocking) until it returns.
    static func run(name: String, _ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            do {
                try IOThread.start(name: name) {
                    body()
                    continuation.resume()
                }
            } catch {
                // No thread to be had: blocking this one is better than not doing the work.
                body()
                continuation.resume()
            }
        }
    }
}

/// A one-shot event an I/O thread signals when it has finished; any number of tasks await it.
final class Completion: Sendable {
    private struct State {
        var done = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    init() {}

    /// Whether ``signal()`` has run.
    var isDone: Bool { self.state.withLock { $0.done } }

    /// Marks the event done and wakes every waiter (later waiters return at once).
    func signal() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Suspends until ``signal()``.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = self.state.withLock { state -> Bool in
                if state.done { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
