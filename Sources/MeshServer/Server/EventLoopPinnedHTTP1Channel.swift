import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 child channel, with each connection's task preferring its channel's
/// event loop as task executor (SE-0417), so reading a request, the handler and writing the
/// response run on the loop's thread instead of hopping to the cooperative pool and back.
///
/// Chosen by ``InferenceServer/Configuration/runsOnEventLoops``; docs/INFERENCE.md has the
/// measurements. The handler then must not block: small batches are computed inline (microseconds),
/// large ones still go to the `ComputeExecutor`.
struct EventLoopPinnedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        self.inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        let executor = EventLoopTaskExecutor(value.channel.eventLoop)
        await withTaskExecutorPreference(executor) {
            await self.inner.handle(value: value, logger: logger)
        }
    }
}

/// A NIO event loop as a Swift `TaskExecutor`: jobs run on the loop's thread.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
