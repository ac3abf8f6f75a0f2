import Foundation
import Testing

@testable import MeshRuntime

/// The memory figures `meshwork bench` samples from `/proc/<pid>/status`.
@Suite struct ProcessMemoryTests {
    @Test func readsThisProcessPeakAndPrivateMemory() throws {
        let pid = ProcessInfo.processInfo.processIdentifier
        let memory = try #require(ProcessMemory.peakAndPrivateKilobytes(pid: pid))
        #expect(memory.peak > 0 && memory.private > 0)
        // The anonymous part is a part of what is resident, which never exceeds the peak.
        let resident = try #require(ProcessMemory.residentKilobytes(pid: pid))
        #expect(memory.private <= resident)
        #expect(try #require(ProcessMemory.privateResidentKilobytes(pid: pid)) > 0)
    }

    @Test func aProcessThatIsGoneHasNoFigures() {
        #expect(ProcessMemory.peakAndPrivateKilobytes(pid: Int32.max) == nil)
        #expect(ProcessMemory.peakResidentKilobytes(pid: Int32.max) == nil)
    }

    @Test func parsesAStatusField() {
        let status = "Name:\tmeshwork\nVmHWM:\t  141600 kB\nRssAnon:\t    5480 kB\n"
        #expect(ProcessMemory.field("VmHWM", in: status) == 141_600)
        #expect(ProcessMemory.field("RssAnon", in: status) == 5_480)
        #expect(ProcessMemory.field("VmSwap", in: status) == nil)
    }
}
