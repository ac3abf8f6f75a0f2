import Foundation
public import MeshCore
import Synchronization

/// A journal sink writing JSON lines: `journal.jsonl` (logical, with the running digest after each
/// record) and `physical.jsonl`. Each append is written before it returns (the coordinator acts only
/// after), and the files can be read back by ``JournalFile``.
public final class FileJournal: JournalSink {
    private let logical: FileHandle
    private let physical: FileHandle
    private let lock = Mutex(())

    /// Creates (or truncates) the two files of `run`.
    public init(run: RunDirectory) throws(RuntimeError) {
        self.logical = try Self.open(run.journalPath)
        self.physical = try Self.open(run.physicalPath)
    }

    private static func open(_ path: String) throws(RuntimeError) -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw RuntimeError(.journal, "\(path): cannot create the journal file")
        }
        return handle
    }

    public func appendLogical(_ entries: [JournalEntry]) throws {
        var text = ""
        text.reserveCapacity(entries.count * 200)
        for entry in entries {
            text += "{\"i\":\(entry.index),\"t\":\(entry.record.time.microseconds),\"kind\":"
            JSONText.appendString(entry.record.kind, to: &text)
            text += ",\"subject\":"
            JSONText.appendString(entry.record.subject, to: &text)
            text += ",\"fields\":["
            for (index, field) in entry.record.fields.enumerated() {
                if index > 0 { text += "," }
                text += "["
                JSONText.appendString(field.name, to: &text)
                text += ","
                JSONText.appendString(field.value, to: &text)
                text += "]"
            }
            text += "],\"digest\":\"\(Hex.encode(entry.digest))\"}\n"
        }
        try self.write(text, to: self.logical)
    }

    public func appendPhysical(_ events: [PhysicalEvent]) throws {
        let wall = Date().timeIntervalSince1970
        var text = ""
        for event in events {
            text += "{\"wall\":\(wall),\"mono_ns\":\(event.monotonicNanoseconds),\"kind\":"
            JSONText.appendString(event.kind, to: &text)
            text += ",\"agent\":"
            JSONText.appendString(event.agent, to: &text)
            text += ",\"task\":"
            JSONText.appendString(event.task, to: &text)
            text += ",\"detail\":"
            JSONText.appendString(event.detail, to: &text)
            text += "}\n"
        }
        try self.write(text, to: self.physical)
    }

    private func write(_ text: String, to handle: FileHandle) throws {
        try self.lock.withLock { _ in
            do {
                try handle.write(contentsOf: Data(text.utf8))
            } catch {
                throw RuntimeError(.journal, "cannot append to the journal: \(error.localizedDescription)")
            }
        }
    }

    /// Flushes to disk and closes both files.
    public func close() {
        try? self.logical.synchronize()
        try? self.physical.synchronize()
        try? self.logical.close()
        try? self.physical.close()
    }
}

/// A logical journal read back from `journal.jsonl`, with its digest recomputed from the records.
public struct JournalFile: Sendable {
    /// The records, in order.
    public var records: [LogicalRecord]
    /// The digest recomputed over the records.
    public var recomputed: JournalDigest
    /// The digest the file recorded after its last record (nil when empty).
    public var recorded: String?

    /// Reads and checks `path`: every line must parse, indexes must run from 0 without gaps, and
    /// the digest written after each record must match the one recomputed there.
    public static func read(path: String) throws(RuntimeError) -> JournalFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError(.journal, "\(path): no such journal")
        }
        struct Line: Decodable {
            var i: UInt64
            var t: UInt64
            var kind: String
            var subject: String
            var fields: [[String]]
            var digest: String
        }
        var file = JournalFile(records: [], recomputed: JournalDigest(), recorded: nil)
        let decoder = JSONDecoder()
        var lineNumber = 0
        for slice in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            lineNumber += 1
            let line: Line
            do {
                line = try decoder.decode(Line.self, from: Data(slice))
            } catch {
                throw RuntimeError(.journal, "\(path):\(lineNumber): not a journal record (truncated or corrupt)")
            }
            guard line.i == file.recomputed.count, line.fields.allSatisfy({ $0.count == 2 }) else {
                throw RuntimeError(.journal, "\(path):\(lineNumber): record index \(line.i), expected \(file.recomputed.count)")
            }
            let record = LogicalRecord(
                time: SimTime(microseconds: line.t), kind: line.kind, subject: line.subject,
                fields: line.fields.map { LogicalRecord.Field($0[0], $0[1]) })
            let digest = Hex.encode(file.recomputed.append(record))
            guard digest == line.digest else {
                throw RuntimeError(.journal, "\(path):\(lineNumber): digest mismatch (the journal was altered)")
            }
            file.records.append(record)
            file.recorded = "sha256:" + line.digest
        }
        return file
    }

    /// Committed tasks: (distinct task ids, records beyond one per task id).
    public var taskCounts: (distinct: Int, duplicates: Int) {
        var seen = Set<String>()
        var duplicates = 0
        for record in self.records where record.kind == "task.done" || record.kind == "task.failed" {
            if !seen.insert(record.subject).inserted { duplicates += 1 }
        }
        return (seen.count, duplicates)
    }
}

/// Minimal JSON text helpers for hand-written hot-path output.
enum JSONText {
    static func appendString(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}
