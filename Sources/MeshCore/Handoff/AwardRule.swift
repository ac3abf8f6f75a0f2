/// The deterministic rule that picks the awardee among the bids for a task.
///
/// It is a function of the task id, the set of bids and the coordinator's own count of tasks
/// each bidder holds — never of the order bids arrived in, nor of wall time: bidders with a free
/// slot come first, then the least loaded, then the highest rendezvous weight of (task, agent
/// id), then the agent id. Rendezvous hashing spreads equal-load ties evenly over the instances
/// of a role and moves only the tasks of an instance that leaves. Who does a task is physical:
/// the journal records the result, never the awardee, so the digest does not depend on it.
public enum AwardRule {
    /// Orders bidders from most to least preferred for `task`; `load` is how many open awards the
    /// coordinator has given each agent.
    public static func rank(_ bids: [AgentRef: Bid], for task: TaskID, load: [AgentID: Int] = [:]) -> [AgentRef] {
        bids.keys.sorted { lhs, rhs in
            let lhsFree = bids[lhs]!.freeSlots > 0
            let rhsFree = bids[rhs]!.freeSlots > 0
            if lhsFree != rhsFree { return lhsFree }
            let lhsLoad = load[lhs.id] ?? 0
            let rhsLoad = load[rhs.id] ?? 0
            if lhsLoad != rhsLoad { return lhsLoad < rhsLoad }
            let lhsWeight = weight(task: task, agent: lhs.id)
            let rhsWeight = weight(task: task, agent: rhs.id)
            if lhsWeight != rhsWeight { return lhsWeight > rhsWeight }
            return lhs < rhs
        }
    }

    /// The rendezvous weight of `agent` for `task`: FNV-1a over both, then a 64-bit finalizer.
    public static func weight(task: TaskID, agent: AgentID) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in task.rawValue.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        hash = (hash ^ 0x7C) &* 0x0000_0100_0000_01B3
        for byte in agent.rawValue.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        hash ^= hash >> 30
        hash = hash &* 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 27
        hash = hash &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 31
        return hash
    }
}
