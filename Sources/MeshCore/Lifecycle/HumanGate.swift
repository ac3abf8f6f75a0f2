/// How the scenario's scripted human decides at the gates (a live mesh has a person instead).
///
/// ```yaml
/// human: { who: alice@example.com, delay_minutes: 90, jitter_minutes: 30, reject_probability: 0.1,
///          on_infeasible: reject, never_answer: [promotion], timeout_minutes: 240, escalate_to: bob@example.com }
/// ```
///
/// A gate in `never_answer` waits its timeout (simulated) and then escalates: `escalate_to`
/// decides, following the evidence's recommendation.
public struct HumanPolicy: Codable, Sendable, Equatable {
    /// The name journaled as the decider.
    public var who: String
    /// How long the human takes to decide, in simulated minutes.
    public var delayMinutes: Double
    /// Up to this much more, drawn from the seeded generator.
    public var jitterMinutes: Double
    /// The chance of rejecting an approval that would otherwise pass, in [0, 1].
    public var rejectProbability: Double
    /// What to do with an infeasible use case: `reject` or `override`.
    public var onInfeasible: String
    /// Gates this human never answers (they escalate at the gate's timeout).
    public var neverAnswer: [String]
    /// How long a gate waits for an answer before it escalates, in simulated minutes.
    public var timeoutMinutes: Double
    /// Who decides an escalated gate.
    public var escalateTo: String
    /// A person decides at the gates (`meshwork gates`, `meshwork approve ID`, `meshwork reject ID
    /// --reason …`) instead of the script; a gate unanswered for `live_timeout_seconds` (wall
    /// time) escalates. Live decisions are journaled like scripted ones, but a rerun cannot
    /// reproduce them.
    public var live: Bool
    public var liveTimeoutSeconds: Double

    public init(
        who: String = "scripted-human", delayMinutes: Double = 90, jitterMinutes: Double = 30, rejectProbability: Double = 0,
        onInfeasible: String = "reject", neverAnswer: [String] = [], timeoutMinutes: Double = 240,
        escalateTo: String = "on-call-lead", live: Bool = false, liveTimeoutSeconds: Double = 3600
    ) {
        self.live = live
        self.liveTimeoutSeconds = liveTimeoutSeconds
        self.timeoutMinutes = timeoutMinutes
        self.escalateTo = escalateTo
        self.who = who
        self.delayMinutes = delayMinutes
        self.jitterMinutes = jitterMinutes
        self.rejectProbability = rejectProbability
        self.onInfeasible = onInfeasible
        self.neverAnswer = neverAnswer
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case who
        case delayMinutes = "delay_minutes"
        case jitterMinutes = "jitter_minutes"
        case rejectProbability = "reject_probability"
        case onInfeasible = "on_infeasible"
        case neverAnswer = "never_answer"
        case timeoutMinutes = "timeout_minutes"
        case escalateTo = "escalate_to"
        case live
        case liveTimeoutSeconds = "live_timeout_seconds"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.who = try container.decodeIfPresent(String.self, forKey: .who) ?? "scripted-human"
        self.delayMinutes = try container.decodeIfPresent(Double.self, forKey: .delayMinutes) ?? 90
        self.jitterMinutes = try container.decodeIfPresent(Double.self, forKey: .jitterMinutes) ?? 30
        self.rejectProbability = try container.decodeIfPresent(Double.self, forKey: .rejectProbability) ?? 0
        self.onInfeasible = try container.decodeIfPresent(String.self, forKey: .onInfeasible) ?? "reject"
        self.neverAnswer = try container.decodeIfPresent([String].self, forKey: .neverAnswer) ?? []
        self.timeoutMinutes = try container.decodeIfPresent(Double.self, forKey: .timeoutMinutes) ?? 240
        self.escalateTo = try container.decodeIfPresent(String.self, forKey: .escalateTo) ?? "on-call-lead"
        self.live = try container.decodeIfPresent(Bool.self, forKey: .live) ?? false
        self.liveTimeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .liveTimeoutSeconds) ?? 3600
        guard self.liveTimeoutSeconds > 0, self.liveTimeoutSeconds.isFinite else {
            throw DecodingError.dataCorruptedError(forKey: .liveTimeoutSeconds, in: container, debugDescription: "seconds > 0")
        }
        guard self.timeoutMinutes > 0, self.timeoutMinutes.isFinite else {
            throw DecodingError.dataCorruptedError(forKey: .timeoutMinutes, in: container, debugDescription: "minutes > 0")
        }
        let gates = Set(GateRequest.Gate.allCases.map(\.rawValue))
        if let unknown = self.neverAnswer.first(where: { !gates.contains($0) }) {
            throw DecodingError.dataCorruptedError(
                forKey: .neverAnswer, in: container,
                debugDescription: "\(unknown) is not a gate (\(gates.sorted().joined(separator: ", ")))")
        }
        guard self.delayMinutes >= 0, self.jitterMinutes >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .delayMinutes, in: container, debugDescription: "minutes >= 0")
        }
        guard (0...1).contains(self.rejectProbability) else {
            throw DecodingError.dataCorruptedError(forKey: .rejectProbability, in: container, debugDescription: "a probability in [0, 1]")
        }
        guard ["reject", "override"].contains(self.onInfeasible) else {
            throw DecodingError.dataCorruptedError(forKey: .onInfeasible, in: container, debugDescription: "reject or override")
        }
    }
}

/// A decision asked of the oversight agent (work `oversight.gate`).
public struct GateRequest: Codable, Sendable, Equatable {
    /// The gates of the lifecycle.
    public enum Gate: String, Codable, Sendable, CaseIterable {
        /// Approve the use case after a positive feasibility check.
        case useCaseApproval = "usecase-approval"
        /// Override (or confirm the rejection of) an infeasible use case.
        case infeasible = "infeasible"
        /// Decide what to do after the data could not be prepared.
        case dataFailure = "data-failure"
        /// Accept the evaluated model into the registry as a candidate for deployment.
        case modelAcceptance = "model-acceptance"
        /// Promote the tested staging version to production.
        case promotion = "promotion"
    }

    /// The use case.
    public var useCase: String
    /// Which gate.
    public var gate: Gate
    /// The evidence shown to the decider, one line per item.
    public var evidence: [String]
    /// What the evidence recommends: approve (true) or reject (false).
    public var recommendation: Bool
    /// The scenario's seed (the scripted human draws from it).
    public var seed: UInt64
    /// The scripted human's policy.
    public var policy: HumanPolicy

    public init(useCase: String, gate: Gate, evidence: [String], recommendation: Bool, seed: UInt64, policy: HumanPolicy) {
        self.useCase = useCase
        self.gate = gate
        self.evidence = evidence
        self.recommendation = recommendation
        self.seed = seed
        self.policy = policy
    }
}

/// What a human decided at a gate.
public struct GateDecision: Codable, Sendable, Equatable {
    /// Approved (go on) or rejected.
    public var approved: Bool
    /// Who decided.
    public var who: String
    /// Why.
    public var reason: String
    /// Who did not answer in time, when the gate escalated.
    public var escalatedFrom: String?

    public init(approved: Bool, who: String, reason: String, escalatedFrom: String? = nil) {
        self.approved = approved
        self.who = who
        self.reason = reason
        self.escalatedFrom = escalatedFrom
    }
}

/// The scripted human of a scenario: a pure, seeded decision.
public enum ScriptedHuman {
    /// Decides `request` for task `task`; the same task always gets the same decision.
    public static func decide(_ request: GateRequest, task: TaskID) -> GateDecision {
        let policy = request.policy
        if policy.neverAnswer.contains(request.gate.rawValue) {
            return Self.escalate(request, after: "\(Int(policy.timeoutMinutes)) min")
        }
        var rng = SeededRandom(seed: request.seed, key: "human/" + task.rawValue)
        switch request.gate {
        case .infeasible:
            let override = policy.onInfeasible == "override"
            return GateDecision(
                approved: override, who: policy.who,
                reason: override ? "override: proceed despite the feasibility check" : "rejected: " + request.evidence.joined(separator: "; "))
        case .dataFailure:
            return GateDecision(approved: false, who: policy.who, reason: "rejected: the data could not be prepared")
        case .useCaseApproval, .modelAcceptance, .promotion:
            guard request.recommendation else {
                return GateDecision(approved: false, who: policy.who, reason: "rejected: " + (request.evidence.last ?? "the evidence does not support it"))
            }
            if rng.nextUnitDouble() < policy.rejectProbability {
                return GateDecision(approved: false, who: policy.who, reason: "rejected by policy draw: retrain with more data")
            }
            return GateDecision(approved: true, who: policy.who, reason: "approved: the evidence meets the objective")
        }
    }

    /// The decision of the person the gate escalates to, who follows the evidence; `after` says
    /// how long the gate waited.
    public static func escalate(_ request: GateRequest, after: String) -> GateDecision {
        let policy = request.policy
        let approve = request.recommendation && request.gate != .dataFailure
        return GateDecision(
            approved: approve, who: policy.escalateTo,
            reason: "escalated: \(policy.who) did not answer within \(after); "
                + (approve ? "approved on the evidence" : "rejected: " + (request.evidence.last ?? "the evidence does not support it")),
            escalatedFrom: policy.who)
    }

    /// How long the human takes to answer task `task`, in simulated microseconds: the gate's
    /// timeout for a gate the human never answers.
    public static func delay(policy: HumanPolicy, seed: UInt64, task: TaskID, gate: GateRequest.Gate? = nil) -> UInt64 {
        if let gate, policy.neverAnswer.contains(gate.rawValue) { return UInt64(policy.timeoutMinutes * 60_000_000) }
        var rng = SeededRandom(seed: seed, key: "human-delay/" + task.rawValue)
        let minutes = policy.delayMinutes + policy.jitterMinutes * rng.nextUnitDouble()
        return UInt64(minutes * 60_000_000)
    }
}
