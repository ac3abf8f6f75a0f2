import Crypto

/// The binary file of a trained model, fp32 or int8, with a SHA-256 trailer.
///
/// Layout (docs/COMPUTE.md has the byte table); every number is little-endian:
///
/// ```text
///  0  4  magic "MWNN"
///  4  2  format version (1)
///  6  1  kind: 1 = fp32 MLP, 2 = int8 MLP
///  7  1  hidden activation: 1 = ReLU
///  8  4  layer count L (u32, 1...64)
/// 12  4  class count K (u32)
/// 16  4(L+1)  widths n0 … nL (u32; nL = K)
///  …  4K  class labels (i32)
///  per layer l, fp32: n_l·n_{l+1} weights (f32, input-major), n_{l+1} biases (f32)
///  per layer l, int8: n_{l+1} scales (f32), n_l·n_{l+1} codes (i8, input-major), n_{l+1} biases (f32)
///  32  SHA-256 of every byte before it
/// ```
///
/// ```swift
/// let bytes = WeightsFile.encode(model)
/// guard case .fp32(let loaded) = try WeightsFile.decode(bytes, source: "model.mwnn") else { … }
/// ```
public enum WeightsFile {
    /// A model read from a weights file.
    public enum StoredModel: Sendable, Hashable {
        /// A float model.
        case fp32(MLP)
        /// A quantized model.
        case int8(QuantizedMLP)
    }

    /// The four magic bytes, "MWNN".
    public static let magic: [UInt8] = Array("MWNN".utf8)
    /// The format version this code writes and reads.
    public static let version: UInt16 = 1
    /// The size of the fixed header before the widths.
    public static let fixedHeaderSize = 16
    /// The size of the SHA-256 trailer.
    public static let checksumSize = 32
    /// The largest layer count a reader accepts, so a corrupt count cannot ask for a huge table.
    public static let maximumLayers = 64
    /// The largest width a reader accepts.
    public static let maximumWidth = 1 << 20

    static let kindFP32: UInt8 = 1
    static let kindInt8: UInt8 = 2
    static let activationReLU: UInt8 = 1

    /// The bytes of a float model.
    public static func encode(_ model: MLP) -> [UInt8] {
        var writer = ByteWriter()
        Self.writeHeader(&writer, kind: Self.kindFP32, widths: model.widths, classLabels: model.classLabels)
        for layer in model.layers {
            writer.append(floats: layer.weights.values)
            writer.append(floats: layer.bias)
        }
        return Self.sealed(writer.bytes)
    }

    /// The bytes of a quantized model.
    public static func encode(_ model: QuantizedMLP) -> [UInt8] {
        var writer = ByteWriter()
        Self.writeHeader(&writer, kind: Self.kindInt8, widths: model.widths, classLabels: model.classLabels)
        for layer in model.layers {
            writer.append(floats: layer.scales)
            writer.append(codes: layer.weights)
            writer.append(floats: layer.bias)
        }
        return Self.sealed(writer.bytes)
    }

    /// Reads a model, checking the checksum first, then every size against what remains.
    ///
    /// - Parameter source: names the file in errors.
    /// - Throws: ``ComputeError`` — ``ComputeError/Code/truncatedFile`` when the bytes end early
    ///   (naming what was being read and at which byte), ``ComputeError/Code/checksumMismatch``,
    ///   ``ComputeError/Code/unsupportedFormat`` for a wrong magic, version, kind or size, and
    ///   ``ComputeError/Code/nonFinite`` for a NaN or infinite weight.
    public static func decode(_ bytes: [UInt8], source: String) throws(ComputeError) -> StoredModel {
        let subject = "weights file \(source)"
        guard bytes.count >= Self.fixedHeaderSize + Self.checksumSize else {
            throw ComputeError(
                .truncatedFile,
                subject,
                at: "byte \(bytes.count)",
                "\(bytes.count) bytes is shorter than a header and checksum (\(Self.fixedHeaderSize + Self.checksumSize))"
            )
        }
        guard Array(bytes[0..<4]) == Self.magic else {
            throw ComputeError(
                .unsupportedFormat,
                subject,
                at: "byte 0",
                "not a Meshwork weights file (magic \(bytes[0..<4].map { $0 }))"
            )
        }
        var reader = ByteReader(bytes: bytes, end: bytes.count - Self.checksumSize, subject: subject)
        reader.offset = 4
        let version = try reader.uint16("format version")
        guard version == Self.version else {
            throw ComputeError(
                .unsupportedFormat,
                subject,
                at: "byte 4",
                "format version \(version); this build reads \(Self.version)"
            )
        }
        let kind = try reader.uint8("kind")
        guard kind == Self.kindFP32 || kind == Self.kindInt8 else {
            throw ComputeError(.unsupportedFormat, subject, at: "byte 6", "unknown model kind \(kind)")
        }
        let activation = try reader.uint8("activation")
        guard activation == Self.activationReLU else {
            throw ComputeError(.unsupportedFormat, subject, at: "byte 7", "unknown hidden activation \(activation)")
        }
        let layerCount = Int(try reader.uint32("layer count"))
        guard (1...Self.maximumLayers).contains(layerCount) else {
            throw ComputeError(
                .unsupportedFormat,
                subject,
                at: "byte 8",
                "layer count \(layerCount) is not in 1...\(Self.maximumLayers)"
            )
        }
        let classCount = Int(try reader.uint32("class count"))
        var widths: [Int] = []
        for index in 0...layerCount {
            let at = reader.offset
            let width = Int(try reader.uint32("width \(index)"))
            guard (1...Self.maximumWidth).contains(width) else {
                throw ComputeError(.unsupportedFormat, subject, at: "byte \(at)", "width \(index) is \(width)")
            }
            widths.append(width)
        }
        guard widths.last == classCount else {
            throw ComputeError(
                .unsupportedFormat,
                subject,
                at: "byte 12",
                "\(classCount) classes but the last width is \(widths.last!)"
            )
        }
        var classLabels: [Int] = []
        for index in 0..<classCount { classLabels.append(Int(try reader.int32("class label \(index)"))) }

        // The header is read; now every size is known, so a short file is told apart from a
        // corrupt one before the checksum is even computed.
        var expected = reader.offset
        for layer in 0..<layerCount {
            let (inputs, outputs) = (widths[layer], widths[layer + 1])
            expected += kind == Self.kindFP32 ? 4 * (inputs * outputs + outputs) : 8 * outputs + inputs * outputs
        }
        guard bytes.count >= expected + Self.checksumSize else {
            throw ComputeError(
                .truncatedFile,
                subject,
                at: "byte \(bytes.count)",
                "the header declares \(expected + Self.checksumSize) bytes but the file has \(bytes.count)"
            )
        }
        guard bytes.count == expected + Self.checksumSize else {
            throw ComputeError(
                .unsupportedFormat,
                subject,
                at: "byte \(expected + Self.checksumSize)",
                "\(bytes.count - expected - Self.checksumSize) bytes after the declared end"
            )
        }
        let digest = Array(SHA256.hash(data: bytes[0..<expected]))
        guard digest == Array(bytes[expected...]) else {
            throw ComputeError(
                .checksumMismatch,
                subject,
                at: "byte \(expected)",
                "SHA-256 of the contents does not match the stored checksum: the file is corrupt"
            )
        }

        if kind == Self.kindFP32 {
            var layers: [DenseLayer] = []
            for layer in 0..<layerCount {
                let (inputs, outputs) = (widths[layer], widths[layer + 1])
                let weights = try reader.floats(inputs * outputs, "layer \(layer) weights")
                let bias = try reader.floats(outputs, "layer \(layer) bias")
                layers.append(
                    try DenseLayer(weights: Matrix(rows: inputs, columns: outputs, values: weights), bias: bias)
                )
            }
            do {
                return .fp32(try MLP(layers: layers, classLabels: classLabels))
            } catch {
                throw ComputeError(error.code, subject, at: error.location, error.reason)
            }
        }
        var layers: [QuantizedLayer] = []
        for layer in 0..<layerCount {
            let (inputs, outputs) = (widths[layer], widths[layer + 1])
            let scales = try reader.floats(outputs, "layer \(layer) scales")
            let codes = try reader.codes(inputs * outputs, "layer \(layer) codes")
            let bias = try reader.floats(outputs, "layer \(layer) bias")
            do {
                layers.append(
                    try QuantizedLayer(
                        inputCount: inputs,
                        outputCount: outputs,
                        weights: codes,
                        scales: scales,
                        bias: bias
                    )
                )
            } catch {
                throw ComputeError(error.code, subject, at: "layer \(layer)", error.reason)
            }
        }
        return .int8(try QuantizedMLP(layers: layers, classLabels: classLabels))
    }

    private static func writeHeader(_ writer: inout ByteWriter, kind: UInt8, widths: [Int], classLabels: [Int]) {
        writer.bytes.append(contentsOf: Self.magic)
        writer.append(Self.version)
        writer.bytes.append(kind)
        writer.bytes.append(Self.activationReLU)
        writer.append(UInt32(widths.count - 1))
        writer.append(UInt32(classLabels.count))
        for width in widths { writer.append(UInt32(width)) }
        for label in classLabels { writer.append(UInt32(bitPattern: Int32(truncatingIfNeeded: label))) }
    }

    private static func sealed(_ bytes: [UInt8]) -> [UInt8] {
        bytes + Array(SHA256.hash(data: bytes))
    }
}
