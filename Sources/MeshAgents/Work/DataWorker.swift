import Foundation
public import MeshCore

/// The data agent's worker: `data.discover` (compliance of catalog sources against a use case's
/// policy) and `data.prepare` (a source read, cleaned, split, standardized and augmented).
///
/// The logic is MeshCore's and pure (``DiscoveryReport/init(answering:)``,
/// ``PreparedDataset/init(preparing:sourceText:)``); the worker decodes the task's bytes, reads a
/// CSV source's file, and encodes the answer. Preparation runs on a thread of its own, off the
/// cooperative pool (``DataWorker/prepare(_:)``).
///
/// Nothing in a request can crash it: bytes that do not decode, a missing file, a ragged row, a
/// non-numeric cell, a missing label column, an empty file or a label outside the classes are
/// answered `.failed` with ``DataError/reportedReason`` (`CODE: SOURCE: file:line:column: reason`),
/// and the worker keeps serving.
///
/// ```swift
/// let worker = CompositeWorker([RelayWorker(), DataWorker()])
/// let outcome = await worker.perform(assignment)   // .done(PreparedDataset bytes) or .failed(reason)
/// ```
public struct DataWorker: Worker {
    /// The directory a CSV source's relative path is resolved against; nil for the process's
    /// working directory.
    public let baseDirectory: String?

    /// The largest CSV file the worker reads (its rows must fit a task result anyway).
    public static let maximumFileBytes = 64 << 20

    /// How many preparations run at once: one per core, at most 4.
    public let maximumConcurrentPreparations: Int

    /// The last CSV sources parsed (shared by copies of this worker).
    let sources = ParsedSourceCache()
    /// Slots for running preparations (``maximumConcurrentPreparations``).
    let slots: DispatchSemaphore

    /// A worker resolving paths against `baseDirectory` (nil: the working directory), running at
    /// most `maximumConcurrentPreparations` preparations at once (nil: one per core, at most 4).
    public init(baseDirectory: String? = nil, maximumConcurrentPreparations: Int? = nil) {
        self.baseDirectory = baseDirectory
        let slots = max(1, maximumConcurrentPreparations ?? min(4, ProcessInfo.processInfo.activeProcessorCount))
        self.maximumConcurrentPreparations = slots
        self.slots = DispatchSemaphore(value: slots)
    }

    /// True for `data.discover` and `data.prepare`.
    public func canDo(_ work: String) -> Bool { DataWork(rawValue: work) != nil }

    /// Decodes, performs, encodes; every failure becomes `.failed` with its reported reason.
    public func perform(_ assignment: Assignment) async -> TaskResult.Outcome {
        switch await self.respond(to: assignment) {
        case .success(let bytes): .done(bytes)
        case .failure(let error): .failed(error.reportedReason)
        }
    }

    /// The output bytes for `assignment`, or why there are none.
    public func respond(to assignment: Assignment) async -> Result<[UInt8], DataError> {
        switch DataWork(rawValue: assignment.work) {
        case .discover:
            do {
                let request = try DiscoveryRequest(decoding: assignment.input)
                return .success(DiscoveryReport(answering: request).encoded())
            } catch {
                return .failure(DataError(malformed: error))
            }
        case .prepare:
            let request: PrepareRequest
            do {
                request = try PrepareRequest(decoding: assignment.input)
            } catch {
                return .failure(DataError(malformed: error))
            }
            return await self.prepare(request)
        case nil:
            return .failure(DataError(.malformedRequest, "request", "the data agent does not do \(assignment.work)"))
        }
    }
}
