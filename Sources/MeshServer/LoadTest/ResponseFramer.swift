import NIOCore

/// Just enough HTTP/1.1 response framing for a client of this server: status line, headers,
/// `Content-Length` body (the server always sends one). Used by ``LoadTest`` and
/// ``HTTPClientConnection`` so they can write requests as raw bytes.
struct ResponseFramer {
    /// One framed response.
    struct Response: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: ByteBuffer
    }

    /// A response the framer cannot read.
    struct Malformed: Error, CustomStringConvertible {
        var reason: String
        var description: String { "malformed HTTP response: \(self.reason)" }
    }

    /// The largest header block accepted.
    static let maximumHeaderBytes = 64 << 10

    /// Takes one complete response off the front of `buffer`, or returns nil when more bytes are
    /// needed. With `keepHeaders` false only the status and body are kept (the load test's path).
    static func take(from buffer: inout ByteBuffer, keepHeaders: Bool) throws -> Response? {
        let framing = try buffer.withUnsafeReadableBytes { bytes throws -> (header: Int, status: Int, length: Int)? in
            guard let end = Self.headerEnd(bytes) else {
                if bytes.count > Self.maximumHeaderBytes { throw Malformed(reason: "headers above 64 KiB") }
                return nil
            }
            guard end >= 12, bytes[0] == UInt8(ascii: "H"), bytes[8] == UInt8(ascii: " ") else {
                throw Malformed(reason: "no status line")
            }
            var status = 0
            for offset in 9..<12 {
                let digit = bytes[offset] &- UInt8(ascii: "0")
                guard digit < 10 else { throw Malformed(reason: "bad status code") }
                status = status * 10 + Int(digit)
            }
            guard let length = Self.contentLength(bytes[..<end]) else {
                throw Malformed(reason: "no Content-Length (chunked responses are not read)")
            }
            return (end, status, length)
        }
        guard let framing, buffer.readableBytes >= framing.header + framing.length else { return nil }
        var headers: [(name: String, value: String)] = []
        if keepHeaders {
            let text = buffer.getString(at: buffer.readerIndex, length: framing.header) ?? ""
            for line in text.split(separator: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers.append(
                    (String(line[..<colon]), String(line[line.index(after: colon)...].drop(while: { $0 == " " })))
                )
            }
        }
        buffer.moveReaderIndex(forwardBy: framing.header)
        let body = buffer.readSlice(length: framing.length)!
        return Response(status: framing.status, headers: headers, body: body)
    }

    /// The offset just past `\r\n\r\n`, if present.
    private static func headerEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = 3
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A {
                if bytes[index - 1] == 0x0D && bytes[index - 2] == 0x0A && bytes[index - 3] == 0x0D {
                    return index + 1
                }
                index += 1
            } else if byte == 0x0D {
                index += 1
            } else {
                // Neither byte of the terminator: it cannot end within the next three bytes.
                index += 4
            }
        }
        return nil
    }

    /// The `Content-Length` value in a header block, case-insensitively.
    private static func contentLength(_ header: Slice<UnsafeRawBufferPointer>) -> Int? {
        let name = Array("content-length:".utf8)
        var index = header.startIndex
        while index < header.endIndex {
            // At a line start: compare the name case-insensitively.
            var matched = true
            for (offset, expected) in name.enumerated() {
                let position = index + offset
                // Lower-case letters, ':' and '-' all have bit 0x20 set, so OR-ing it in folds case.
                guard position < header.endIndex, header[position] | 0x20 == expected else {
                    matched = false
                    break
                }
            }
            if matched {
                var position = index + name.count
                while position < header.endIndex, header[position] == UInt8(ascii: " ") { position += 1 }
                var value = 0
                var digits = 0
                while position < header.endIndex, header[position] &- UInt8(ascii: "0") < 10, digits < 15 {
                    value = value * 10 + Int(header[position] &- UInt8(ascii: "0"))
                    position += 1
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            while index < header.endIndex, header[index] != 0x0A { index += 1 }
            index += 1
        }
        return nil
    }
}
