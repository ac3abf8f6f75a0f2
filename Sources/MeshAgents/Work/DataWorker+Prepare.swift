import Foundation
public import MeshCore

extension DataWorker {
    /// Prepares `request` on a new thread: reads a CSV source's file, runs the pure preparation
    /// and encodes the dataset, so neither the file read nor the work (about 10 ms for digits)
    /// occupies the cooperative pool. Prepare tasks are few (one per use case and expansion), so
    /// a thread per task costs nothing that matters.
    public func prepare(_ request: PrepareRequest) async -> Result<[UInt8], DataError> {
        let baseDirectory = self.baseDirectory
        return await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Self.prepareNow(request, baseDirectory: baseDirectory))
            }
            thread.name = "data.prepare"
            thread.start()
        }
    }

    /// The same work on the calling thread.
    public static func prepareNow(_ request: PrepareRequest, baseDirectory: String?) -> Result<[UInt8], DataError> {
        do throws(DataError) {
            var text: String?
            if case .csv(let path) = request.source.kind {
                text = try Self.readSource(path: path, sourceID: request.source.id, baseDirectory: baseDirectory)
            }
            let bytes = try PreparedDataset(preparing: request, sourceText: text).encoded()
            guard bytes.count <= ComputeLimits.maximumPayloadBytes else {
                throw DataError(
                    .resultTooLarge,
                    request.source.id,
                    "the prepared dataset is \(bytes.count) bytes, a task result carries at most "
                        + "\(ComputeLimits.maximumPayloadBytes)"
                )
            }
            return .success(bytes)
        } catch {
            return .failure(error)
        }
    }

    /// Reads a CSV source's text. The path must be relative and stay inside the base directory
    /// (a request comes from the mesh; it may not name any file of the host).
    static func readSource(path: String, sourceID: String, baseDirectory: String?) throws(DataError) -> String {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.hasPrefix("/"), !components.contains("..") else {
            throw DataError(
                .invalidRequest,
                sourceID,
                "\(path): a source path must be relative to the working directory, without '..'"
            )
        }
        let resolved = baseDirectory.map { ($0.hasSuffix("/") ? $0 : $0 + "/") + path } ?? path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) else {
            throw DataError(.sourceUnavailable, sourceID, "\(path): no such file")
        }
        guard !isDirectory.boolValue else {
            throw DataError(.sourceUnavailable, sourceID, "\(path): a directory, not a CSV file")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: resolved)[.size] as? Int) ?? 0
        guard size <= Self.maximumFileBytes else {
            throw DataError(
                .sourceUnavailable,
                sourceID,
                "\(path): \(size) bytes, the data agent reads at most \(Self.maximumFileBytes)"
            )
        }
        guard let contents = FileManager.default.contents(atPath: resolved) else {
            throw DataError(.sourceUnavailable, sourceID, "\(path): cannot be read")
        }
        guard let text = String(validating: contents, as: UTF8.self) else {
            throw DataError(.sourceUnavailable, sourceID, "\(path): not UTF-8 text")
        }
        return text
    }
}
