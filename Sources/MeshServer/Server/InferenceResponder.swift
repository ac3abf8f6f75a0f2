import MeshCompute
import NIOCore
import NIOHTTP1
import Synchronization

/// Routes the Open Inference Protocol's paths to the registry's models and answers each request;
/// every refusal is a JSON error with its status, and nothing a client sends stops the server.
///
/// Synchronous and free of I/O: ``InferenceHTTPHandler`` calls it on the connection's event loop
/// with the request head (``begin(method:uri:contentLength:)``) and, for inference, with the
/// collected body (``infer(_:body:)``); a batch above ``InferenceServer/Configuration/inlineRowLimit``
/// rows is handed back as a ``Computation`` for the handler to run on the ``ComputeExecutor``.
struct InferenceResponder: Sendable {
    let registry: ModelRegistry
    let configuration: InferenceServer.Configuration
    /// Inference requests being answered now.
    let inFlight: InFlightCounter

    /// A response body and its status (every answer is `application/json`).
    struct Reply: Sendable {
        var status: HTTPResponseStatus
        var body: ByteBuffer
        /// For 405, the `Allow` header's value.
        var allow: String?
    }

    /// What a request head leads to.
    enum Start {
        /// The answer is known from the head; the body, if any, is read and dropped.
        case reply(Reply)
        /// An inference request: collect the body (at most `limit` bytes), then ``infer(_:body:)``.
        case infer(InferenceCall)
    }

    /// An inference request between its head and its answer. Counted in ``InFlightCounter`` from
    /// ``begin(method:uri:contentLength:)`` until ``finish(_:_:)``.
    struct InferenceCall: Sendable {
        let version: ModelVersion
        let alias: String?
        let started: ContinuousClock.Instant
    }

    /// The model's work for a batch too large to compute on the event loop.
    struct Computation: Sendable {
        let call: InferenceCall
        let request: InferenceRequest
    }

    /// What the body of an inference request leads to.
    enum Outcome {
        /// The answer (a success or a refusal), already counted in the version's statistics.
        case reply(Reply)
        /// Run ``compute(_:)`` off the event loop, then answer with its reply.
        case offload(Computation)
    }

    // MARK: Heads

    /// Routes a request head. `contentLength` is the header's value when it has one.
    func begin(method: HTTPMethod, uri: String, contentLength: Int?) -> Start {
        do throws(InferenceError) {
            let route = try Route(uri: uri)
            switch route {
            case .infer(let reference):
                guard method == .POST else { throw Self.methodNotAllowed(method, uri, allowed: "POST") }
                return .infer(try self.beginInference(reference, contentLength: contentLength))
            default:
                guard method == .GET else { throw Self.methodNotAllowed(method, uri, allowed: "GET") }
                return .reply(try self.answer(route))
            }
        } catch {
            return .reply(Self.errorReply(error))
        }
    }

    private func beginInference(
        _ reference: ModelReference,
        contentLength: Int?
    ) throws(InferenceError) -> InferenceCall {
        let started = ContinuousClock.now
        let version = try self.registry.resolve(reference)
        if let contentLength, contentLength > self.configuration.maximumBodyBytes {
            version.recordFailure()
            throw Self.bodyTooLarge(self.configuration.maximumBodyBytes)
        }
        self.inFlight.count.add(1, ordering: .relaxed)
        let alias: String? =
            switch reference.selector {
            case .alias(let alias): alias ?? self.registry.defaultAlias
            case .version: nil
            }
        return InferenceCall(version: version, alias: alias, started: started)
    }

    // MARK: Inference

    /// Parses the body of `call`'s request and computes it when it is small; `body` is nil when
    /// it grew past the limit while it was read.
    func infer(_ call: InferenceCall, body: ByteBuffer?) -> Outcome {
        do throws(InferenceError) {
            guard let body else { throw Self.bodyTooLarge(self.configuration.maximumBodyBytes) }
            let parser = InferenceRequestParser(
                featureCount: call.version.featureCount,
                maximumRows: self.configuration.maximumBatchRows
            )
            let parsed = try body.withUnsafeReadableBytes { bytes throws(InferenceError) in try parser.parse(bytes) }
            let computation = Computation(call: call, request: parsed)
            if parsed.rows > self.configuration.inlineRowLimit { return .offload(computation) }
            return .reply(self.compute(computation))
        } catch {
            return .reply(self.finish(call, .failure(error)))
        }
    }

    /// The model's work and the response body; runs on the event loop or on the executor.
    func compute(_ computation: Computation) -> Reply {
        let call = computation.call
        let request = computation.request
        let logits: Matrix
        do {
            logits = try call.version.logits(rows: request.rows, values: request.values)
        } catch let error as ComputeError {
            return self.finish(
                call,
                .failure(
                    error.code == .nonFinite
                        ? InferenceError(.nonFinite, "the inputs are not finite after standardization: \(error.reason)")
                        : InferenceError(.internalError, "the model failed: \(error)")
                )
            )
        } catch {
            // A stored version whose weights cannot be read (RegistryError.weightsUnavailable).
            return self.finish(call, .failure(InferenceError(.internalError, "the model cannot be loaded: \(error)")))
        }
        guard logits.isFinite else {
            return self.finish(
                call,
                .failure(
                    InferenceError(
                        .nonFinite,
                        "the model's logits overflow for these inputs (values too large for FP32 arithmetic)"
                    )
                )
            )
        }
        let buffer = InferenceResponseWriter.write(request, logits: logits, version: call.version, alias: call.alias)
        return self.finish(call, .success((buffer, request.rows)))
    }

    /// Records the outcome in the version's statistics and the in-flight count.
    private func finish(_ call: InferenceCall, _ result: Result<(ByteBuffer, Int), InferenceError>) -> Reply {
        defer { self.inFlight.count.subtract(1, ordering: .relaxed) }
        switch result {
        case .success(let (buffer, rows)):
            let elapsed = call.started.duration(to: .now).components
            let nanoseconds = UInt64(elapsed.seconds) * 1_000_000_000 + UInt64(elapsed.attoseconds / 1_000_000_000)
            call.version.recordSuccess(rows: rows, nanoseconds: nanoseconds)
            return Reply(status: .ok, body: buffer)
        case .failure(let error):
            call.version.recordFailure()
            return Self.errorReply(error)
        }
    }

    /// Ends a call whose connection closed before its body was read: it is counted as a failure.
    func abandon(_ call: InferenceCall) {
        _ = self.finish(call, .failure(InferenceError(.invalidRequest, "the connection closed during the request")))
    }

    // MARK: Other endpoints

    private func answer(_ route: Route) throws(InferenceError) -> Reply {
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
            preconditionFailure("inference is answered by infer(_:body:)")
        }
        return Reply(status: .ok, body: buffer)
    }

    // MARK: Errors

    /// `{"error":"…","code":"…"}` with the error's status.
    static func errorReply(_ error: InferenceError) -> Reply {
        var buffer = ByteBuffer()
        buffer.writeStaticString(#"{"error":"#)
        buffer.writeJSONString(error.reason)
        buffer.writeStaticString(#","code":"#)
        buffer.writeJSONString(error.code.rawValue)
        buffer.writeStaticString("}")
        return Reply(status: HTTPResponseStatus(statusCode: error.httpStatus), body: buffer, allow: error.allowedMethods)
    }

    private static func methodNotAllowed(_ method: HTTPMethod, _ uri: String, allowed: String) -> InferenceError {
        let path = Route.path(of: uri)
        var error = InferenceError(.methodNotAllowed, "\(method.rawValue) is not allowed on \(path); use \(allowed)")
        error.allowedMethods = allowed
        return error
    }

    static func bodyTooLarge(_ limit: Int) -> InferenceError {
        InferenceError(.bodyTooLarge, "the request body is larger than the limit of \(limit) bytes")
    }
}

/// The number of inference requests being answered, shared by the server and its responder.
final class InFlightCounter: Sendable {
    let count = Atomic<Int>(0)
}
