public import MeshAgents
public import MeshCore

/// The monitoring agent's worker: `monitoring.window` sends a window of the stream through the
/// production version on the pipeline agent's inference API (found in the award's service
/// directory as `<agent>.inference`), counts correct labels, and measures drift per feature (PSI
/// and two-sample KS) against the training reference. Latency is telemetry.
///
/// ```swift
/// let worker = CompositeWorker([RelayWorker(), MonitoringWorker()])
/// ```
public struct MonitoringWorker: Worker {
    /// The inference URL used when the directory has none (a run without a mesh).
    public let fallbackInference: String?

    public init(fallbackInference: String? = nil) {
        self.fallbackInference = fallbackInference
    }

    public func canDo(_ work: String) -> Bool { work == ServingWork.window || work == ServingWork.notify }

    public func perform(_ assignment: Assignment) async -> TaskResult.Outcome {
        await self.performReporting(assignment).outcome
    }

    public func performReporting(_ assignment: Assignment) async -> WorkReport {
        if assignment.work == ServingWork.notify { return await self.notify(assignment) }
        let request: WindowRequest
        do {
            request = try WindowRequest(decoding: assignment.input)
        } catch {
            return WorkReport(.failed("malformedRequest: \(assignment.work): \(error)"))
        }
        // Every pipeline agent's API, in a fixed order; the first that serves the version answers
        // (a mesh may run several pipeline agents, and a version lives where it was deployed).
        var urls = assignment.context.keys.sorted().filter { $0.hasSuffix(".inference") }.compactMap { assignment.context[$0] }
        if urls.isEmpty, let fallback = self.fallbackInference { urls = [fallback] }
        guard !urls.isEmpty else {
            return WorkReport(.failed("noInference: no agent advertises an inference service"))
        }
        let head = request.head
        let started = ContinuousClock.now
        var answer: (labels: [Int], url: String)?
        var problems: [String] = []
        for url in urls {
            do {
                let client = try await InferenceClient.connect(url: url)
                defer { client.close() }
                answer = (try await client.labels(
                    path: "/v2/models/\(head.name)/versions/\(head.version)/infer", rows: request.rows.features), url)
                break
            } catch {
                problems.append("\(error)")
            }
        }
        guard let (predicted, url) = answer else {
            return WorkReport(.failed("inference: " + problems.joined(separator: "; ")))
        }
        let elapsed = ContinuousClock.now - started
        let right = zip(predicted, request.rows.labels).map { $0 == $1 }
        let correct = right.filter { $0 }.count
        let heldOutCorrect = right[head.heldOutFrom...].filter { $0 }.count
        let drift = DriftStatistics.measure(request.rows.features, against: request.reference)
        let report = WindowReport(
            window: head.window, version: head.version, rows: request.rows.labels.count, correct: correct,
            heldOutRows: request.rows.labels.count - head.heldOutFrom, heldOutCorrect: heldOutCorrect, drift: drift,
            drifted: head.rule.isDrifted(drift))
        let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
        return WorkReport(
            .done(CanonicalJSON.encode(report)),
            telemetry: ["window.inference_ms": String(Int(milliseconds.rounded())), "window.inference": url])
    }

    /// Posts the alert to the webhook, three tries 200 ms apart; the output is the same whether it
    /// was delivered or not (delivery is physical: telemetry and the agent's log).
    func notify(_ assignment: Assignment) async -> WorkReport {
        let notification: AlertNotification
        do {
            notification = try CanonicalJSON.decode(AlertNotification.self, from: assignment.input, what: "alert notification")
        } catch {
            return WorkReport(.failed("malformedRequest: \(assignment.work): \(error)"))
        }
        let output = CanonicalJSON.encode([
            "alert": notification.payload.groupLabels["alertname"] ?? "", "status": notification.payload.status,
        ])
        var telemetry = ["webhook.url": notification.webhook]
        let body = CanonicalJSON.encode(notification.payload)
        for attempt in 1...3 {
            do {
                let (host, port, path) = try InferenceClient.parse(url: notification.webhook)
                let connection = try await HTTPClientConnection.connect(host: host, port: port)
                defer { connection.close() }
                let response = try await connection.request("POST", path, body: body)
                telemetry["webhook.status"] = String(response.status)
                telemetry["webhook.attempts"] = String(attempt)
                if (200..<300).contains(response.status) { break }
            } catch {
                telemetry["webhook.error"] = "\(error)"
                telemetry["webhook.attempts"] = String(attempt)
            }
            if attempt < 3 { try? await Task.sleep(for: .milliseconds(200)) }
        }
        return WorkReport(.done(output), telemetry: telemetry)
    }
}
