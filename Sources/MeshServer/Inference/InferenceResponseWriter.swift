import MeshCompute
import NIOCore

/// Writes the Open Inference Protocol response body for one request.
///
/// ```json
/// {"model_name":"digits-classifier","model_version":"3","id":"42",
///  "parameters":{"alias":"production","precision":"int8"},
///  "outputs":[{"name":"logits","datatype":"FP32","shape":[1,10],"data":[...]},
///             {"name":"label","datatype":"INT64","shape":[1],"data":[7]}]}
/// ```
enum InferenceResponseWriter {
    static func write(
        _ request: InferenceRequest,
        logits: Matrix,
        version: ModelVersion,
        alias: String?
    ) -> ByteBuffer {
        let rows = logits.rows
        let classes = logits.columns
        var buffer = ByteBuffer()
        buffer.reserveCapacity(192 + rows * classes * 13 * (request.outputs.contains(.probabilities) ? 2 : 1))
        buffer.writeStaticString(#"{"model_name":"#)
        buffer.writeJSONString(version.name)
        buffer.writeStaticString(#","model_version":""#)
        buffer.writeJSONNumber(version.version)
        buffer.writeStaticString(#"""#)
        if let id = request.id {
            buffer.writeStaticString(#","id":"#)
            buffer.writeJSONString(id)
        }
        buffer.writeStaticString(#","parameters":{"#)
        if let alias {
            buffer.writeStaticString(#""alias":"#)
            buffer.writeJSONString(alias)
            buffer.writeStaticString(",")
        }
        buffer.writeStaticString(#""precision":""#)
        buffer.writeString(version.precision.rawValue)
        buffer.writeStaticString(#""},"outputs":["#)
        var first = true
        if request.outputs.contains(.logits) {
            Self.writeMatrix(logits, name: "logits", into: &buffer)
            first = false
        }
        if request.outputs.contains(.label) {
            if !first { buffer.writeStaticString(",") }
            first = false
            buffer.writeStaticString(#"{"name":"label","datatype":"INT64","shape":["#)
            buffer.writeJSONNumber(rows)
            buffer.writeStaticString(#"],"data":["#)
            for (index, column) in logits.argmaxPerRow().enumerated() {
                if index > 0 { buffer.writeStaticString(",") }
                buffer.writeJSONNumber(version.classLabels[column])
            }
            buffer.writeStaticString("]}")
        }
        if request.outputs.contains(.probabilities) {
            if !first { buffer.writeStaticString(",") }
            Self.writeMatrix(logits.softmaxPerRow(), name: "probabilities", into: &buffer)
        }
        buffer.writeStaticString("]}")
        return buffer
    }

    private static func writeMatrix(_ matrix: Matrix, name: StaticString, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"name":""#)
        buffer.writeStaticString(name)
        buffer.writeStaticString(#"","datatype":"FP32","shape":["#)
        buffer.writeJSONNumber(matrix.rows)
        buffer.writeStaticString(",")
        buffer.writeJSONNumber(matrix.columns)
        buffer.writeStaticString(#"],"data":["#)
        matrix.withUnsafeBufferPointer { values in
            for index in values.indices {
                if index > 0 { buffer.writeStaticString(",") }
                buffer.writeJSONNumber(values[index])
            }
        }
        buffer.writeStaticString("]}")
    }
}
