import Foundation
public import MeshCore

/// Why an inference call did not give labels.
public struct InferenceClientError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A small client of the inference API (KServe v2 JSON) over one keep-alive connection, for the
/// pipeline's end-to-end test and the monitoring agent's stream.
///
/// ```swift
/// let client = try await InferenceClient.connect(url: "http://127.0.0.1:8080")
/// let labels = try await client.labels(path: "/v2/models/digits-classifier/versions/1/infer", rows: frame)
/// client.close()
/// ```
public final class InferenceClient: Sendable {
    /// The connection, for raw requests.
    public let connection: HTTPClientConnection

    init(connection: HTTPClientConnection) {
        self.connection = connection
    }

    /// The host, port and path of an `http://HOST:PORT[/PATH]` URL.
    public static func parse(url: String) throws -> (host: String, port: Int, path: String) {
        guard url.hasPrefix("http://") else { throw InferenceClientError("\(url): not an http:// URL") }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
            (1...65_535).contains(port)
        else { throw InferenceClientError("\(url): no port") }
        var host = String(authority[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let path = rest[slash...].isEmpty ? "/" : String(rest[slash...])
        return (host, port, path)
    }

    /// Connects to `url` (`http://HOST:PORT`).
    public static func connect(url: String) async throws -> InferenceClient {
        let (host, port, _) = try Self.parse(url: url)
        do {
            return InferenceClient(connection: try await HTTPClientConnection.connect(host: host, port: port))
        } catch {
            throw InferenceClientError("cannot connect to \(url): \(error)")
        }
    }

    /// Closes the connection.
    public func close() { self.connection.close() }

    /// The predicted label of each row, asked in batches of at most `batch` rows.
    public func labels(path: String, rows: TensorFrame, batch: Int = 512) async throws -> [Int] {
        var labels: [Int] = []
        labels.reserveCapacity(rows.rows)
        var start = 0
        while start < rows.rows {
            let count = min(batch, rows.rows - start)
            let values = Array(rows.values[(start * rows.columns)..<((start + count) * rows.columns)])
            let response = try await self.connection.request(
                "POST", path, body: Array(Self.body(shape: [count, rows.columns], values: values).utf8))
            guard response.status == 200 else {
                throw InferenceClientError(
                    "POST \(path): HTTP \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
            }
            let answer = try Self.labels(in: response.body)
            guard answer.count == count else {
                throw InferenceClientError("POST \(path): \(answer.count) labels for \(count) rows")
            }
            labels += answer
            start += count
        }
        return labels
    }

    /// A request body: one FP32 input tensor of `shape`, asking for the `label` output.
    public static func body(shape: [Int], values: [Float]) -> String {
        var text = #"{"inputs":[{"name":"input","shape":["#
        text += shape.map(String.init).joined(separator: ",")
        text += #"],"datatype":"FP32","data":["#
        text += values.map { $0.description }.joined(separator: ",")
        text += #"]}],"outputs":[{"name":"label"}]}"#
        return text
    }

    /// The bytes of ``body(shape:values:)`` for a tensor of zeros, written straight as UTF-8
    /// (the serving test's oversized batch: a million bytes, without a million `Float`s and strings).
    public static func zerosBody(shape: [Int]) -> [UInt8] {
        let count = shape.reduce(1, *)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(96 + count * 4)
        bytes += Array(#"{"inputs":[{"name":"input","shape":["#.utf8)
        bytes += Array(shape.map(String.init).joined(separator: ",").utf8)
        bytes += Array(#"],"datatype":"FP32","data":["#.utf8)
        let zero = Array(Float(0).description.utf8)
        for index in 0..<count {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += zero
        }
        bytes += Array(#"]}],"outputs":[{"name":"label"}]}"#.utf8)
        return bytes
    }

    /// The `label` output's data in a response body.
    static func labels(in body: [UInt8]) throws -> [Int] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let outputs = object["outputs"] as? [[String: Any]],
            let label = outputs.first(where: { $0["name"] as? String == "label" }),
            let data = label["data"] as? [NSNumber]
        else { throw InferenceClientError("a response without a label output: \(String(decoding: body.prefix(300), as: UTF8.self))") }
        return data.map(\.intValue)
    }
}
