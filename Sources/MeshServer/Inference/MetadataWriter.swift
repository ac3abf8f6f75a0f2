import NIOCore

/// The JSON documents of the non-inference endpoints: model list, model metadata, statistics.
enum MetadataWriter {
    /// `{"models":[{"name":…,"versions":["1","2"],"aliases":{"production":"2"}}]}`
    static func writeModelList(_ registry: ModelRegistry, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"models":["#)
        for (index, name) in registry.modelNames.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeStaticString(#"{"name":"#)
            buffer.writeJSONString(name)
            buffer.writeStaticString(#","versions":"#)
            Self.writeVersionStrings(registry.versions(name), into: &buffer)
            buffer.writeStaticString(#","aliases":"#)
            Self.writeAliases(registry.aliases(name), into: &buffer)
            buffer.writeStaticString("}")
        }
        buffer.writeStaticString("]}")
    }

    /// The Open Inference Protocol's model metadata, with this server's additions under
    /// `parameters`.
    static func writeMetadata(_ version: ModelVersion, registry: ModelRegistry, into buffer: inout ByteBuffer) {
        let features = version.featureCount
        let classes = version.classCount
        buffer.writeStaticString(#"{"name":"#)
        buffer.writeJSONString(version.name)
        buffer.writeStaticString(#","versions":"#)
        Self.writeVersionStrings(registry.versions(version.name), into: &buffer)
        buffer.writeStaticString(#","platform":"meshwork-mlp","inputs":[{"name":"input","datatype":"FP32","shape":[-1,"#)
        buffer.writeJSONNumber(features)
        buffer.writeStaticString(#"]}],"outputs":[{"name":"logits","datatype":"FP32","shape":[-1,"#)
        buffer.writeJSONNumber(classes)
        buffer.writeStaticString(#"]},{"name":"label","datatype":"INT64","shape":[-1]},"#)
        buffer.writeStaticString(#"{"name":"probabilities","datatype":"FP32","shape":[-1,"#)
        buffer.writeJSONNumber(classes)
        buffer.writeStaticString(#"]}],"parameters":{"version":""#)
        buffer.writeJSONNumber(version.version)
        buffer.writeStaticString(#"","aliases":"#)
        Self.writeAliases(registry.aliases(version.name), into: &buffer)
        buffer.writeStaticString(#","precision":""#)
        buffer.writeString(version.precision.rawValue)
        buffer.writeStaticString(#"","available_precisions":["#)
        var precisions: [String] = []
        for precision in version.availablePrecisions { precisions.append("\"\(precision.rawValue)\"") }
        buffer.writeString(precisions.joined(separator: ","))
        buffer.writeStaticString(#"],"class_labels":"#)
        buffer.writeJSONArray(version.classLabels)
        buffer.writeStaticString(#","standardized":"#)
        buffer.writeString(version.standardizer == nil ? "false" : "true")
        if let hash = version.metadata.datasetHash {
            buffer.writeStaticString(#","dataset_hash":"#)
            buffer.writeJSONString(hash)
        }
        buffer.writeStaticString(#","metrics":{"#)
        for (index, (name, value)) in version.metadata.metrics.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeJSONString(name)
            buffer.writeStaticString(":")
            buffer.writeJSONNumber(value)
        }
        buffer.writeStaticString("}}}")
    }

    /// `{"model_stats":[{"name":…,"version":"2","inference_count":…,"row_count":…,"failure_count":…,
    /// "latency":{"window":…,"p50_ms":…,"p90_ms":…,"p99_ms":…,"max_ms":…}}]}`
    static func writeStatistics(_ versions: [ModelVersion], into buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"model_stats":["#)
        for (index, version) in versions.enumerated() {
            let statistics = version.statistics
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeStaticString(#"{"name":"#)
            buffer.writeJSONString(version.name)
            buffer.writeStaticString(#","version":""#)
            buffer.writeJSONNumber(version.version)
            buffer.writeStaticString(#"","inference_count":"#)
            buffer.writeJSONNumber(statistics.requests)
            buffer.writeStaticString(#","row_count":"#)
            buffer.writeJSONNumber(statistics.rows)
            buffer.writeStaticString(#","failure_count":"#)
            buffer.writeJSONNumber(statistics.failures)
            buffer.writeStaticString(#","latency":{"window":"#)
            buffer.writeJSONNumber(statistics.window)
            for (key, seconds) in [
                ("p50_ms", statistics.p50Seconds), ("p90_ms", statistics.p90Seconds),
                ("p99_ms", statistics.p99Seconds), ("max_ms", statistics.maxSeconds),
            ] {
                buffer.writeStaticString(",")
                buffer.writeJSONString(key)
                buffer.writeStaticString(":")
                buffer.writeJSONNumber(seconds * 1000)
            }
            buffer.writeStaticString("}}")
        }
        buffer.writeStaticString("]}")
    }

    private static func writeVersionStrings(_ versions: [Int], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("[")
        for (index, version) in versions.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeJSONString(String(version))
        }
        buffer.writeStaticString("]")
    }

    private static func writeAliases(_ aliases: [String: Int], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{")
        for (index, (alias, version)) in aliases.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeJSONString(alias)
            buffer.writeStaticString(":")
            buffer.writeJSONString(String(version))
        }
        buffer.writeStaticString("}")
    }
}
