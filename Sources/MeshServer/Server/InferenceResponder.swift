import Hummingbird
import MeshCompute
import NIOCore
import Synchronization

/// Routes the Open Inference Protocol's paths to the registry's models and answers each request;
/// every refusal is a JSON error with its status, and nothing a client sends stops the server.
///
/// Called by HummingbirdCore's HTTP/1.1 channel directly (no `Application`, router or request
/// context): per request that saves a logger copy with a request id, a task-local and a context.
struct InferenceResponder: Sendable {
    let registry: ModelRegistry
    let configuration: InferenceServer.Configuration
    let executor: ComputeExecutor
    /// Inference requests being answered now.
    let inFlight: InFlightCounter

    func respond(to request: Request) async -> Response {
        let route: Route
        do throws(InferenceError) {
            route = try Route(path: request.uri.path)
        } catch {
            return Self.errorResponse(error)
        }
        do throws(InferenceError) {
            switch route {
            case .infer(let reference):
                guard request.method == .post else { throw Self.methodNotAllowed(request, allowed: "POST") }
                return try await self.infer(request, reference: reference)
            default:
                guard request.method == .get else { throw Self.methodNotAllowed(request, allowed: "GET") }
                return try self.answer(route)
            }
        } catch {
            return Self.errorResponse(error)
        }
    }

    // MARK: Inference

    private func infer(_ request: Request, reference: ModelReference) async throws(InferenceError) -> Response {
        let started = ContinuousClock.now
        self.inFlight.count.add(1, ordering: .relaxed)
        defer { self.inFlight.count.subtract(1, ordering: .relaxed) }
        let version = try self.registry.resolve(reference)
        do throws(InferenceError) {
            let response = try await self.infer(request, on: version, reference: reference)
            let elapsed = started.duration(to: .now).components
            let nanoseconds = UInt64(elapsed.seconds) * 1_000_000_000 + UInt64(elapsed.attoseconds / 1_000_000_000)
            version.recordSuccess(rows: response.rows, nanoseconds: nanoseconds)
            return response.response
        } catch {
            version.recordFailure()
            throw error
        }
    }

    private func infer(
        _ request: Request,
        on version: ModelVersion,
        reference: ModelReference
    ) async throws(InferenceError) -> (response: Response, rows: Int) {
        let limit = self.configuration.maximumBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw Self.bodyTooLarge(limit)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw Self.bodyTooLarge(limit)
        } catch {
            throw InferenceError(.invalidRequest, "the request body could not be read: \(error)")
        }
        let parser = InferenceRequestParser(
            featureCount: version.featureCount,
            maximumRows: self.configuration.maximumBatchRows
        )
        let parsed = try body.withUnsafeReadableBytes { bytes throws(InferenceError) in try parser.parse(bytes) }

        let logits: Matrix
        do throws(ComputeError) {
            if parsed.rows <= self.configuration.inlineRowLimit {
                logits = try version.logits(rows: parsed.rows, values: parsed.values)
            } else {
                let rows = parsed.rows
                let values = parsed.values
                logits = try await self.executor.run { () throws(ComputeError) -> Matrix in
                    try version.logits(rows: rows, values: values)
                }
            }
        } catch {
            throw error.code == .nonFinite
                ? InferenceError(.nonFinite, "the inputs are not finite after standardization: \(error.reason)")
                : InferenceError(.internalError, "the model failed: \(error)")
        }
        guard logits.isFinite else {
            throw InferenceError(
                .nonFinite,
                "the model's logits overflow for these inputs (values too large for FP32 arithmetic)"
            )
        }
        let alias: String? =
            switch reference.selector {
            case .alias(let alias): alias ?? self.registry.defaultAlias
            case .version: nil
            }
        let buffer = InferenceResponseWriter.write(
            parsed,
            logits: logits,
            version: version,
            alias: alias
        )
        return (Self.jsonResponse(.ok, buffer), parsed.rows)
    }

    // MARK: Other endpoints

    private func answer(_ route: Route) throws(InferenceError) -> Response {
        var buffer = ByteBuffer()
        switch route {
        case .serverMetadata:
            buffer.writeStaticString(#"{"name":"meshwork","version":"1","extensions":["statistics","model_list"]}"#)
        case .live:
            buffer.writeStaticString(#"{"live":true}"#)
        case .ready:
            buffer.writeStaticString(#"{"ready":true}"#)
        case .models:
            MetadataWriter.writeModelList(self.registry, into: &buffer)
        case .metadata(let reference):
            let version = try self.registry.resolve(reference)
            MetadataWriter.writeMetadata(version, registry: self.registry, into: &buffer)
        case .modelReady(let reference):
            let version = try self.registry.resolve(reference)
            buffer.writeStaticString(#"{"name":"#)
            buffer.writeJSONString(version.name)
            buffer.writeStaticString(#","version":"#)
            buffer.writeJSONString(String(version.version))
            buffer.writeStaticString(#","ready":true}"#)
        case .statistics(let reference):
            let versions: [ModelVersion]
            if case .alias(nil) = reference.selector {
                let numbers = self.registry.versions(reference.name)
                guard !numbers.isEmpty else {
                    throw InferenceError(.modelNotFound, "no model named '\(reference.name)'")
                }
                versions = numbers.compactMap { self.registry.version(reference.name, number: $0) }
            } else {
                versions = [try self.registry.resolve(reference)]
            }
            MetadataWriter.writeStatistics(versions, into: &buffer)
        case .infer:
            preconditionFailure("inference is answered by infer(_:reference:)")
        }
        return Self.jsonResponse(.ok, buffer)
    }

    // MARK: Responses

    static func jsonResponse(_ status: HTTPResponse.Status, _ buffer: ByteBuffer) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json", .contentLength: String(buffer.readableBytes)],
            body: ResponseBody(byteBuffer: buffer)
        )
    }

    static func errorResponse(_ error: InferenceError) -> Response {
        var buffer = ByteBuffer()
        buffer.writeStaticString(#"{"error":"#)
        buffer.writeJSONString(error.reason)
        buffer.writeStaticString(#","code":"#)
        buffer.writeJSONString(error.code.rawValue)
        buffer.writeStaticString("}")
        var response = Self.jsonResponse(HTTPResponse.Status(code: error.httpStatus), buffer)
        if let allowed = error.allowedMethods { response.headers[.allow] = allowed }
        return response
    }

    private static func methodNotAllowed(_ request: Request, allowed: String) -> InferenceError {
        var error = InferenceError(
            .methodNotAllowed,
            "\(request.method.rawValue) is not allowed on \(request.uri.path); use \(allowed)"
        )
        error.allowedMethods = allowed
        return error
    }

    private static func bodyTooLarge(_ limit: Int) -> InferenceError {
        InferenceError(.bodyTooLarge, "the request body is larger than the limit of \(limit) bytes")
    }
}

/// The number of inference requests being answered, shared by the server and its responder.
final class InFlightCounter: Sendable {
    let count = Atomic<Int>(0)
}
