/// Scenario texts the process tests share.
public enum TestScenarios {
    /// The digits use case through the whole lifecycle, small enough for debug builds: a one-model
    /// search (2 then 4 epochs), deployment with a 300 ms serving test, `hours` simulated hours of
    /// monitoring with drift at hour 2, a drift alert and a retraining after 2 windows.
    /// `monitoring` adds lines to the monitoring section, `agents` an `agents:` line.
    public static func smallLifecycle(
        name: String = "lifecycle-small", hours: Int = 8, monitoring: [String] = [], agents: String? = nil
    ) -> String {
        var text = """
            name: \(name)
            seed: 42
            workflow:
              lifecycle:
                use_cases: [agents/usecases/digits.yaml]
                search: { rung_epochs: [2, 4], max_models: 1 }
                serving: { load_milliseconds: 300 }
                monitoring:
                  hours: \(hours)
                  window_rows: 60
                  drift: { at_hour: 2 }
                  alerts: [{ name: DataDrift, condition: drift }]
                  retrain: { windows: 2, epochs: 10 }

            """
        for line in monitoring { text += "      \(line)\n" }
        if let agents { text += "agents: \(agents)\n" }
        return text
    }
}
