#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the Open Inference Protocol (KServe v2) request body without Foundation:
///
/// ```json
/// {"id": "42", "inputs": [{"name": "input", "shape": [N, F], "datatype": "FP32", "data": [...]}],
///  "outputs": [{"name": "logits"}, {"name": "label"}], "parameters": {...}}
/// ```
///
/// `data` may be flat or nested (row-major either way); unknown keys are skipped. One pass over
/// the bytes, numbers straight into `[Float]`; every error names what was wrong and where.
/// (Foundation's `JSONSerialization` boxes each number in an `NSNumber`: see docs/INFERENCE.md.)
struct InferenceRequestParser {
    /// The deepest nesting accepted, for `data` and for skipped values.
    static let maximumDepth = 32

    let featureCount: Int
    let maximumRows: Int

    /// Parses and checks `body` for a model with ``featureCount`` features.
    func parse(_ body: UnsafeRawBufferPointer) throws(InferenceError) -> InferenceRequest {
        var scanner = JSONScanner(body)
        var id: String?
        var outputs: InferenceRequest.Outputs?
        var input: InputTensor?
        var sawInputs = false

        try scanner.expectObject { scanner, key throws(InferenceError) in
            switch key {
            case "inputs":
                guard !sawInputs else { throw InferenceError(.invalidRequest, "\"inputs\" appears twice") }
                sawInputs = true
                var count = 0
                try scanner.expectArray(context: "\"inputs\"") { scanner throws(InferenceError) in
                    count += 1
                    guard count == 1 else {
                        throw InferenceError(
                            .invalidRequest,
                            "\"inputs\" has more than one tensor; the model takes one, named \"input\""
                        )
                    }
                    input = try self.parseInput(&scanner)
                }
            case "outputs":
                var requested: InferenceRequest.Outputs = []
                try scanner.expectArray(context: "\"outputs\"") { scanner throws(InferenceError) in
                    var name: String?
                    try scanner.expectObject { scanner, key throws(InferenceError) in
                        if key == "name" { name = try scanner.expectString(context: "outputs[].name") } else {
                            try scanner.skipValue()
                        }
                    }
                    switch name {
                    case "logits": requested.insert(.logits)
                    case "label": requested.insert(.label)
                    case "probabilities": requested.insert(.probabilities)
                    case nil: throw InferenceError(.invalidRequest, "an entry of \"outputs\" has no \"name\"")
                    case let other?:
                        throw InferenceError(
                            .invalidRequest,
                            "unknown output \"\(other)\"; the model's outputs are logits, label, probabilities"
                        )
                    }
                }
                outputs = requested
            case "id":
                id = try scanner.expectString(context: "\"id\"")
            default:
                try scanner.skipValue()
            }
        }
        try scanner.expectEnd()

        guard let input else {
            throw InferenceError(.invalidRequest, sawInputs ? "\"inputs\" is empty" : "the body has no \"inputs\"")
        }
        let rows = try self.check(input)
        return InferenceRequest(
            id: id,
            rows: rows,
            values: input.data,
            outputs: outputs.flatMap { $0.isEmpty ? nil : $0 } ?? .standard
        )
    }

    /// One tensor of `inputs`, as sent.
    private struct InputTensor {
        var name: String?
        var shape: [Int]?
        var datatype: String?
        var data: [Float] = []
        var sawData = false
    }

    private func parseInput(_ scanner: inout JSONScanner) throws(InferenceError) -> InputTensor {
        var tensor = InputTensor()
        try scanner.expectObject { scanner, key throws(InferenceError) in
            switch key {
            case "name": tensor.name = try scanner.expectString(context: "inputs[0].name")
            case "datatype": tensor.datatype = try scanner.expectString(context: "inputs[0].datatype")
            case "shape":
                var shape: [Int] = []
                try scanner.expectArray(context: "inputs[0].shape") { scanner throws(InferenceError) in
                    shape.append(try scanner.expectDimension())
                }
                tensor.shape = shape
            case "data":
                tensor.sawData = true
                tensor.data.reserveCapacity(self.featureCount)
                do throws(InferenceError) {
                    try scanner.parseNumbers(into: &tensor.data, limit: self.maximumRows * self.featureCount)
                } catch where error.code == .batchTooLarge {
                    throw InferenceError(
                        .batchTooLarge,
                        "inputs[0].data holds more than \(self.maximumRows) rows of \(self.featureCount) values, "
                            + "above the limit of \(self.maximumRows) rows per request"
                    )
                }
            default:
                try scanner.skipValue()
            }
        }
        return tensor
    }

    /// Checks the tensor against the model; returns N.
    private func check(_ input: InputTensor) throws(InferenceError) -> Int {
        guard let name = input.name else { throw InferenceError(.invalidRequest, "inputs[0] has no \"name\"") }
        guard name == "input" else {
            throw InferenceError(
                .invalidRequest,
                "inputs[0] is named \"\(name)\"; the model's input is named \"input\""
            )
        }
        guard let datatype = input.datatype else {
            throw InferenceError(.invalidRequest, "inputs[0] has no \"datatype\"")
        }
        guard datatype == "FP32" || datatype == "FP64" else {
            throw InferenceError(
                .unsupportedDatatype,
                "inputs[0].datatype is \(datatype); the model takes FP32 (FP64 is accepted and narrowed)"
            )
        }
        guard let shape = input.shape else { throw InferenceError(.invalidRequest, "inputs[0] has no \"shape\"") }
        guard input.sawData else { throw InferenceError(.invalidRequest, "inputs[0] has no \"data\"") }
        guard shape.count == 2, shape[1] == self.featureCount else {
            throw InferenceError(
                .shapeMismatch,
                "inputs[0].shape is \(shape); the model takes [N, \(self.featureCount)]"
            )
        }
        let rows = shape[0]
        guard rows > 0 else { throw InferenceError(.emptyBatch, "inputs[0].shape is \(shape): the batch is empty") }
        guard rows <= self.maximumRows else {
            throw InferenceError(
                .batchTooLarge,
                "a batch of \(rows) rows is above the limit of \(self.maximumRows) rows per request"
            )
        }
        guard input.data.count == rows * self.featureCount else {
            throw InferenceError(
                .shapeMismatch,
                "inputs[0].data has \(input.data.count) values; shape \(shape) needs \(rows * self.featureCount)"
            )
        }
        return rows
    }
}

/// A forward-only reader of JSON bytes: just what the request parser needs, strict RFC 8259
/// syntax, byte offsets in every error.
struct JSONScanner {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private var depth = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    // MARK: Structure

    /// Reads an object, calling `member` with each key with the scanner at its value; `member`
    /// must consume the value.
    mutating func expectObject(
        _ member: (inout JSONScanner, String) throws(InferenceError) -> Void
    ) throws(InferenceError) {
        guard self.peekSignificant() == UInt8(ascii: "{") else { throw self.unexpected("an object") }
        self.index += 1
        try self.enter()
        defer { self.depth -= 1 }
        if self.peekSignificant() == UInt8(ascii: "}") {
            self.index += 1
            return
        }
        while true {
            guard self.peekSignificant() == UInt8(ascii: "\"") else { throw self.unexpected("a key string") }
            let key = try self.readString()
            guard self.peekSignificant() == UInt8(ascii: ":") else { throw self.unexpected("':'") }
            self.index += 1
            try member(&self, key)
            switch self.peekSignificant() {
            case UInt8(ascii: ","): self.index += 1
            case UInt8(ascii: "}"):
                self.index += 1
                return
            default: throw self.unexpected("',' or '}'")
            }
        }
    }

    /// Reads an array, calling `element` with the scanner at each element.
    mutating func expectArray(
        context: String,
        _ element: (inout JSONScanner) throws(InferenceError) -> Void
    ) throws(InferenceError) {
        guard self.peekSignificant() == UInt8(ascii: "[") else { throw self.unexpected("an array for \(context)") }
        self.index += 1
        try self.enter()
        defer { self.depth -= 1 }
        if self.peekSignificant() == UInt8(ascii: "]") {
            self.index += 1
            return
        }
        while true {
            try element(&self)
            switch self.peekSignificant() {
            case UInt8(ascii: ","): self.index += 1
            case UInt8(ascii: "]"):
                self.index += 1
                return
            default: throw self.unexpected("',' or ']'")
            }
        }
    }

    /// Requires nothing but whitespace after the value.
    mutating func expectEnd() throws(InferenceError) {
        if self.peekSignificant() != nil { throw self.unexpected("the end of the body") }
    }

    /// Skips any value.
    mutating func skipValue() throws(InferenceError) {
        switch self.peekSignificant() {
        case UInt8(ascii: "{"): try self.expectObject { scanner, _ throws(InferenceError) in try scanner.skipValue() }
        case UInt8(ascii: "["):
            try self.expectArray(context: "a value") { scanner throws(InferenceError) in try scanner.skipValue() }
        case UInt8(ascii: "\""): _ = try self.readString()
        case UInt8(ascii: "t"): try self.expectLiteral("true")
        case UInt8(ascii: "f"): try self.expectLiteral("false")
        case UInt8(ascii: "n"): try self.expectLiteral("null")
        case .some: _ = try self.readNumber(context: "a value")
        case nil: throw self.unexpected("a value")
        }
    }

    // MARK: Values

    /// Reads a string value.
    mutating func expectString(context: String) throws(InferenceError) -> String {
        guard self.peekSignificant() == UInt8(ascii: "\"") else {
            throw InferenceError(.invalidRequest, "\(context) must be a string (byte \(self.index))")
        }
        return try self.readString()
    }

    /// Reads a non-negative integer dimension of a shape.
    mutating func expectDimension() throws(InferenceError) -> Int {
        let start = self.index
        guard let byte = self.peekSignificant(), byte == UInt8(ascii: "-") || Self.isDigit(byte) else {
            throw InferenceError(.shapeMismatch, "inputs[0].shape must hold integers (byte \(self.index))")
        }
        let value = try self.readNumber(context: "inputs[0].shape")
        guard value >= 0, value == value.rounded(), value < 1e15 else {
            throw InferenceError(
                .shapeMismatch,
                "inputs[0].shape holds \(value) at byte \(start); dimensions are non-negative integers"
            )
        }
        return Int(value)
    }

    /// Reads a number or a (nested) array of numbers, appending them in order; refuses more than
    /// `limit` values.
    mutating func parseNumbers(into values: inout [Float], limit: Int) throws(InferenceError) {
        guard self.peekSignificant() == UInt8(ascii: "[") else {
            try self.appendNumber(to: &values, limit: limit)
            return
        }
        // The array loop of `expectArray`, written out: no closure call per value.
        self.index += 1
        try self.enter()
        defer { self.depth -= 1 }
        if self.peekSignificant() == UInt8(ascii: "]") {
            self.index += 1
            return
        }
        while true {
            if self.peekSignificant() == UInt8(ascii: "[") {
                try self.parseNumbers(into: &values, limit: limit)
            } else {
                try self.appendNumber(to: &values, limit: limit)
            }
            switch self.peekSignificant() {
            case UInt8(ascii: ","): self.index += 1
            case UInt8(ascii: "]"):
                self.index += 1
                return
            default: throw self.unexpected("',' or ']'")
            }
        }
    }

    /// Reads one data value (the scanner is at it) and appends it.
    private mutating func appendNumber(to values: inout [Float], limit: Int) throws(InferenceError) {
        let start = self.index
        let value = try self.readDataNumber()
        guard value.isFinite else {
            throw InferenceError(
                .nonFinite,
                "inputs[0].data value \(values.count) (byte \(start)) is not a finite FP32 number"
            )
        }
        guard values.count < limit else {
            throw InferenceError(
                .batchTooLarge,
                "inputs[0].data has more than \(limit) values, the most a request may carry"
            )
        }
        values.append(value)
    }

    /// A data element: a number, or one of the non-JSON tokens `NaN`, `Infinity`, `-Infinity`
    /// (recognized only to say they are not finite).
    private mutating func readDataNumber() throws(InferenceError) -> Float {
        guard let byte = self.peek() else { throw self.unexpected("a number") }
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if byte == UInt8(ascii: "-"), self.matches("-Infinity") {
                self.index += 9
                return -.infinity
            }
            return try self.readFloat()
        case UInt8(ascii: "N") where self.matches("NaN"):
            self.index += 3
            return .nan
        case UInt8(ascii: "I") where self.matches("Infinity"):
            self.index += 8
            return .infinity
        case UInt8(ascii: "\""), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "{"):
            let kind =
                switch byte {
                case UInt8(ascii: "\""): "a string"
                case UInt8(ascii: "{"): "an object"
                case UInt8(ascii: "n"): "null"
                default: "a boolean"
                }
            throw InferenceError(.nonNumeric, "inputs[0].data holds \(kind) at byte \(self.index); it must hold numbers")
        default:
            throw self.unexpected("a number")
        }
    }

    // MARK: Tokens

    private mutating func enter() throws(InferenceError) {
        self.depth += 1
        guard self.depth <= InferenceRequestParser.maximumDepth else {
            throw InferenceError(
                .malformedJSON,
                "nesting deeper than \(InferenceRequestParser.maximumDepth) levels at byte \(self.index)"
            )
        }
    }

    private mutating func peekSignificant() -> UInt8? {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
            case let byte: return byte
            }
        }
        return nil
    }

    private func peek() -> UInt8? {
        self.index < self.bytes.count ? self.bytes[self.index] : nil
    }

    private func matches(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard self.index + count <= self.bytes.count else { return false }
        for offset in 0..<count where self.bytes[self.index + offset] != literal.utf8Start[offset] { return false }
        return true
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(InferenceError) {
        guard self.matches(literal) else { throw self.unexpected("\(literal)") }
        self.index += literal.utf8CodeUnitCount
    }

    private func unexpected(_ expected: String) -> InferenceError {
        guard self.index < self.bytes.count else {
            return InferenceError(.malformedJSON, "malformed JSON: the body ends where \(expected) was expected")
        }
        let byte = self.bytes[self.index]
        let shown = (0x20..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        return InferenceError(
            .malformedJSON,
            "malformed JSON at byte \(self.index): expected \(expected), found \(shown)"
        )
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// Reads a string token (the scanner is at its opening quote), decoding escapes.
    private mutating func readString() throws(InferenceError) -> String {
        let start = self.index
        self.index += 1
        // Keys and short values have no escapes: one String straight from the bytes (small
        // strings need no allocation at all).
        var end = self.index
        while end < self.bytes.count {
            let byte = self.bytes[end]
            if byte == UInt8(ascii: "\"") {
                self.index = end + 1
                return String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start + 1..<end]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            end += 1
        }
        var decoded: [UInt8] = []
        var runStart = self.index
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            switch byte {
            case UInt8(ascii: "\""):
                decoded.append(contentsOf: self.bytes[runStart..<self.index])
                self.index += 1
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                decoded.append(contentsOf: self.bytes[runStart..<self.index])
                self.index += 1
                guard self.index < self.bytes.count else { break }
                let escape = self.bytes[self.index]
                self.index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try self.readHex4()
                    if (0xD800..<0xDC00).contains(scalar), self.matches("\\u") {
                        self.index += 2
                        let low = try self.readHex4()
                        guard (0xDC00..<0xE000).contains(low) else {
                            throw InferenceError(.malformedJSON, "malformed JSON: a lone surrogate at byte \(self.index)")
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    decoded.append(contentsOf: Array(String(character).utf8))
                default:
                    self.index -= 1
                    throw self.unexpected("an escape character")
                }
                runStart = self.index
            case 0..<0x20:
                throw InferenceError(
                    .malformedJSON,
                    "malformed JSON at byte \(self.index): a control character inside the string at byte \(start)"
                )
            default:
                self.index += 1
            }
        }
        throw InferenceError(.malformedJSON, "malformed JSON: the string at byte \(start) is not closed")
    }

    private mutating func readHex4() throws(InferenceError) -> UInt32 {
        guard self.index + 4 <= self.bytes.count else { throw self.unexpected("four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.unexpected("a hex digit")
            }
            value = value << 4 | UInt32(digit)
            self.index += 1
        }
        return value
    }

    /// Checks the JSON number grammar from the current byte; returns the token's range and its
    /// decimal significand and exponent when the significand fits 19 digits.
    private mutating func scanNumber() throws(InferenceError) -> (
        range: Range<Int>, negative: Bool, significand: UInt64, exponent: Int, exact: Bool
    ) {
        let start = self.index
        var negative = false
        if self.peek() == UInt8(ascii: "-") {
            negative = true
            self.index += 1
        }
        var significand: UInt64 = 0
        var digits = 0
        var exponent = 0
        var exact = true
        guard let first = self.peek(), Self.isDigit(first) else { throw self.unexpected("a digit") }
        if first == UInt8(ascii: "0") {
            self.index += 1
        } else {
            while let byte = self.peek(), Self.isDigit(byte) {
                if digits < 19 {
                    significand = significand &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
                    digits += 1
                } else {
                    exponent += 1
                    if byte != UInt8(ascii: "0") { exact = false }
                }
                self.index += 1
            }
        }
        if self.peek() == UInt8(ascii: ".") {
            self.index += 1
            guard let byte = self.peek(), Self.isDigit(byte) else { throw self.unexpected("a digit after '.'") }
            while let byte = self.peek(), Self.isDigit(byte) {
                if digits < 19 {
                    significand = significand &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
                    if significand != 0 { digits += 1 }
                    exponent -= 1
                } else if byte != UInt8(ascii: "0") {
                    exact = false
                }
                self.index += 1
            }
        }
        if let byte = self.peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            self.index += 1
            var exponentNegative = false
            if let sign = self.peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                exponentNegative = sign == UInt8(ascii: "-")
                self.index += 1
            }
            guard let digit = self.peek(), Self.isDigit(digit) else { throw self.unexpected("an exponent digit") }
            var value = 0
            while let byte = self.peek(), Self.isDigit(byte) {
                if value < 100_000 { value = value * 10 + Int(byte &- UInt8(ascii: "0")) }
                self.index += 1
            }
            exponent += exponentNegative ? -value : value
        }
        return (start..<self.index, negative, significand, exponent, exact)
    }

    /// Powers of ten exactly representable in `Float`.
    private static let floatPowers: [Float] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

    /// Reads a number as the correctly rounded `Float`: exact arithmetic when the significand
    /// and the power of ten are both exact in `Float` (every pixel value and most printed floats),
    /// otherwise `strtof` on the token.
    private mutating func readFloat() throws(InferenceError) -> Float {
        if let integer = self.readSmallInteger() { return integer }
        let number = try self.scanNumber()
        if number.exact, number.significand <= 1 << 24, abs(number.exponent) <= 10 {
            let magnitude = Float(number.significand)
            let power = Self.floatPowers[abs(number.exponent)]
            let value = number.exponent < 0 ? magnitude / power : magnitude * power
            return number.negative ? -value : value
        }
        return self.strtof(number.range)
    }

    /// A plain integer token of 1-7 digits (every pixel value), read in one pass: the `Float`
    /// the general path gives for it (exact below 2²⁴). Nil, with the scanner not moved, for any
    /// other token (a fraction, an exponent, a leading zero, more digits), which the general path
    /// then reads or refuses.
    private mutating func readSmallInteger() -> Float? {
        var index = self.index
        let negative = index < self.bytes.count && self.bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let first = index
        var value: UInt32 = 0
        while index < self.bytes.count, index - first < 8 {
            let digit = self.bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            value = value &* 10 &+ UInt32(digit)
            index += 1
        }
        let digits = index - first
        guard (1...7).contains(digits), digits == 1 || self.bytes[first] != UInt8(ascii: "0") else { return nil }
        if index < self.bytes.count {
            let next = self.bytes[index]
            guard next != UInt8(ascii: "."), next != UInt8(ascii: "e"), next != UInt8(ascii: "E") else { return nil }
        }
        self.index = index
        let magnitude = Float(value)
        return negative ? -magnitude : magnitude
    }

    /// Reads a number as a `Double` (for shapes and skipped values).
    private mutating func readNumber(context: String) throws(InferenceError) -> Double {
        let number = try self.scanNumber()
        if number.exact, number.significand <= 1 << 53, abs(number.exponent) <= 22 {
            let magnitude = Double(number.significand)
            let power = (0..<abs(number.exponent)).reduce(1.0) { value, _ in value * 10 }
            let value = number.exponent < 0 ? magnitude / power : magnitude * power
            return number.negative ? -value : value
        }
        return Double(self.strtof(number.range))
    }

    /// `strtof` on the bytes of `range`, copied with a terminating zero.
    private func strtof(_ range: Range<Int>) -> Float {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: range.count + 1) { buffer in
            for offset in 0..<range.count { buffer[offset] = CChar(bitPattern: self.bytes[range.lowerBound + offset]) }
            buffer[range.count] = 0
            #if canImport(Glibc)
            return Glibc.strtof(buffer.baseAddress!, nil)
            #else
            return Darwin.strtof(buffer.baseAddress!, nil)
            #endif
        }
    }
}
