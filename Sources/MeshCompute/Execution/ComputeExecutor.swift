import DequeModule
import Dispatch
import Foundation
import Synchronization

/// A dedicated thread that runs the compute node's heavy work, so BLAS calls and training loops
/// never block Swift's cooperative thread pool.
///
/// Jobs run one at a time, in submission order, on the executor's own `Thread`; `async` callers
/// suspend on a continuation until their job finishes. Creating an executor sets OpenBLAS's
/// (process-wide) thread count, 1 by default: see ``BLAS/setThreadCount(_:)``.
///
/// ```swift
/// let executor = ComputeExecutor()
/// let result = try await executor.run {
///     try Trainer.train(model, on: data, configuration: configuration)
/// }
/// executor.shutdown()
/// ```
public final class ComputeExecutor: Sendable {
    /// One queued closure; it resumes its caller's continuation itself.
    fileprivate typealias Job = @Sendable () -> Void

    /// What the worker thread shares with submitters; the thread holds this, not the executor,
    /// so dropping the executor can stop the thread.
    private final class Queue: Sendable {
        struct State {
            var jobs: Deque<Job> = []
            var stopping = false
            /// The worker's pthread, once it runs.
            var worker: pthread_t?
        }

        let state = Mutex(State())
        /// Counts queued jobs plus one for the stop request: the worker sleeps on it when idle.
        let ready = DispatchSemaphore(value: 0)
        /// Signalled by the worker as it exits, so ``shutdown()`` can wait for it.
        let finished = DispatchSemaphore(value: 0)

        func work() {
            self.state.withLock { $0.worker = pthread_self() }
            while true {
                self.ready.wait()
                let job: Job? = self.state.withLock { state in state.jobs.popFirst() }
                guard let job else { break }  // woken with an empty queue: stop was requested
                job()
            }
            self.finished.signal()
        }
    }

    private let queue = Queue()
    /// The thread's name, for debuggers and reports.
    public let name: String

    /// Starts the worker thread.
    ///
    /// - Parameters:
    ///   - name: the thread's name.
    ///   - blasThreads: OpenBLAS's thread count for the whole process (see docs/COMPUTE.md for
    ///     why 1 is the default on this 2-core machine).
    public init(name: String = "meshwork.compute", blasThreads: Int = 1) {
        BLAS.setThreadCount(blasThreads)
        self.name = name
        let thread = Thread { [queue] in queue.work() }
        thread.name = name
        // The default secondary-thread stack is small; 8 MiB matches a main thread.
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// True when called from one of this executor's jobs, for assertions in code that must not
    /// run on the cooperative pool.
    public var isCurrentThread: Bool {
        guard let worker = self.queue.state.withLock({ $0.worker }) else { return false }
        return pthread_equal(worker, pthread_self()) != 0
    }

    deinit {
        self.requestStop()
    }

    /// Runs `work` on the executor's thread and returns its result to the awaiting caller.
    ///
    /// The job is not interrupted by task cancellation once it has started; a job submitted after
    /// ``shutdown()`` traps, since that is a programming error of the owner.
    public func run<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            self.submit {
                let result: Result<T, E>
                do throws(E) {
                    result = .success(try work())
                } catch {
                    result = .failure(error)
                }
                continuation.resume(returning: result)
            }
        }
        return try result.get()
    }

    /// Queues `job` without waiting for it.
    private func submit(_ job: @escaping Job) {
        let accepted = self.queue.state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.jobs.append(job)
            return true
        }
        precondition(accepted, "job submitted to a ComputeExecutor after shutdown")
        self.queue.ready.signal()
    }

    /// Lets queued jobs finish, then stops the thread and waits for it to exit. Idempotent.
    ///
    /// Call it from outside the executor's own jobs (a job calling it would wait for itself).
    public func shutdown() {
        if self.requestStop() { self.queue.finished.wait() }
    }

    /// Marks the executor stopping and wakes the worker; true the first time.
    @discardableResult
    private func requestStop() -> Bool {
        let first = self.queue.state.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        if first { self.queue.ready.signal() }
        return first
    }
}
