import Foundation
public import MeshCore
import Synchronization

/// A journal sink writing JSON lines: `journal.jsonl` (logical, with the running digest after each
/// record, a `task.done` record's output in hex, and `"end":true` on the last line of each
/// append) and `physical.jsonl`. Each append is written before it returns (the coordinator acts
/// only after), and the files can be read back by ``JournalFile``.
public final class FileJournal: JournalSink {
    private let logical: FileHandle
    private let physical: FileHandle
    private let lock = Mutex(())

    /// Creates (or truncates) the two files of `run`; with `resuming`, keeps them and appends,
    /// after cutting a torn tail of the logical journal back to the end of its last whole append.
    public init(run: RunDirectory, resuming: Bool = false) throws(RuntimeError) {
        if resuming {
            try JournalFile.truncateToLastBatch(path: run.journalPath)
            self.logical = try Self.openForAppending(run.journalPath)
            self.physical = try Self.openForAppending(run.physicalPath)
        } else {
            self.logical = try Self.create(run.journalPath)
            self.physical = try Self.create(run.physicalPath)
        }
    }

    private static func create(_ path: String) throws(RuntimeError) -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw RuntimeError(.journal, "\(path): cannot create the journal file")
        }
        return handle
    }

    private static func openForAppending(_ path: String) throws(RuntimeError) -> FileHandle {
        if !FileManager.default.fileExists(atPath: path) { return try self.create(path) }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw RuntimeError(.journal, "\(path): cannot open the journal for appending")
        }
        do {
            try handle.seekToEnd()
        } catch {
            throw RuntimeError(.journal, "\(path): cannot open the journal for appending: \(error.localizedDescription)")
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
            text += "],\"digest\":\"\(Hex.encode(entry.digest))\""
            if let payload = entry.payload { text += ",\"payload\":\"\(Hex.encode(payload))\"" }
            text += entry.index == entries.last?.index ? ",\"end\":true}\n" : "}\n"
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
    /// Each record's payload (a `task.done` record's output), nil for others.
    public var payloads: [[UInt8]?]
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
            var payload: String?
        }
        var file = JournalFile(records: [], payloads: [], recomputed: JournalDigest(), recorded: nil)
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
            file.payloads.append(try line.payload.map { text throws(RuntimeError) in
                guard let bytes = Hex.decode(text) else {
                    throw RuntimeError(.journal, "\(path):\(lineNumber): the payload is not hex")
                }
                return bytes
            })
            file.recorded = "sha256:" + line.digest
        }
        return file
    }

    /// The records as journal entries (with digests and payloads), for restoring an orchestrator.
    public var entries: [JournalEntry] {
        var digest = JournalDigest()
        return self.records.enumerated().map { index, record in
            JournalEntry(index: UInt64(index), record: record, digest: digest.append(record), payload: self.payloads[index])
        }
    }

    /// Cuts the journal at `path` back to the end of its last whole append (a line with
    /// `"end":true`), dropping what a crash left half-written after it.
    static func truncateToLastBatch(path: String) throws(RuntimeError) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let marker = Array(",\"end\":true}\n".utf8)
        var keep = 0
        var lineStart = 0
        let bytes = [UInt8](data)
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            let line = bytes[lineStart...index]
            if line.count >= marker.count, Array(line.suffix(marker.count)) == marker { keep = index + 1 }
            lineStart = index + 1
        }
        guard keep < bytes.count else { return }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw RuntimeError(.journal, "\(path): cannot open the journal to cut its torn tail")
        }
        defer { try? handle.close() }
        do {
            try handle.truncate(atOffset: UInt64(keep))
        } catch {
            throw RuntimeError(.journal, "\(path): cannot cut the journal's torn tail: \(error.localizedDescription)")
        }
    }

    /// The highest award number each task had, from the physical journal at `path` (empty when none).
    public static func highestAwards(physicalPath path: String) -> [TaskID: UInt64] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var awards: [TaskID: UInt64] = [:]
        for line in text.split(separator: "\n") where line.contains("\"kind\":\"award\"") {
            guard let taskRange = line.range(of: "\"task\":\""), let awardRange = line.range(of: "award=") else { continue }
            let taskText = line[taskRange.upperBound...].prefix { $0 != "\"" }
            guard let task = TaskID(String(taskText)), let award = UInt64(line[awardRange.upperBound...].prefix { $0.isNumber })
            else { continue }
            awards[task] = max(awards[task] ?? 0, award)
        }
        return awards
    }

    /// The distinct OS processes (`host/pid`) the physical journal at `path` says took part: every
    /// agent incarnation that joined and every coordinator that started.
    public static func processes(physicalPath path: String) -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var processes = Set<String>()
        for line in text.split(separator: "\n")
        where line.contains("\"kind\":\"joined\"") || line.contains("\"kind\":\"coordinator-started\"") {
            guard let pidRange = line.range(of: "pid="), let hostRange = line.range(of: "host=") else { continue }
            let pid = line[pidRange.upperBound...].prefix { $0.isNumber }
            let host = line[hostRange.upperBound...].prefix { $0 != " " && $0 != "\"" }
            processes.insert("\(host)/\(pid)")
        }
        return processes
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
