import AggregatorCore
import Foundation
import Logging
import NIOCore

/// The scaled-mode token log: a Redis stream per running job, so `GET /stream/jobs/{id}` on any instance follows a
/// job running on any worker. A follower reads the stream from its start (a late one gets everything so far) and
/// then blocks for more. The stream expires an hour after its last piece, minutes after the attempt's end.
public struct RedisJobTokenLog: JobTokenLog {
    let client: RedisClient
    let keys: RedisKeys
    let logger: Logger

    public init(client: RedisClient, keys: RedisKeys = RedisKeys(), logger: Logger) {
        self.client = client
        self.keys = keys
        self.logger = logger
    }

    public func append(jobID: UUID, attempt: Int, text: String) async {
        await add(jobID: jobID, fields: ["a", .init(attempt), "t", .init(text)], ttl: RedisKeys.tokensTTL)
    }

    public func end(jobID: UUID, attempt: Int) async {
        await add(jobID: jobID, fields: ["a", .init(attempt), "end", "1"], ttl: RedisKeys.tokensTTLAfterEnd)
    }

    /// Best effort: a follower that misses pieces still gets the job's result at its end.
    private func add(jobID: UUID, fields: [RedisArgument], ttl: Int) async {
        let key = keys.tokens(of: jobID)
        do {
            _ = try await client.pipeline([
                RedisCommand(["XADD", .init(key), "MAXLEN", "~", "10000", "*"] + fields),
                RedisCommand("EXPIRE", .init(key), .init(ttl)),
            ])
        } catch {
            logger.debug("writing a job's tokens to Redis failed", metadata: ["job": "\(jobID)", "error": "\(error)"])
        }
    }

    public func follow(jobID: UUID) -> AsyncThrowingStream<JobTokenEvent, any Error> {
        let key = keys.tokens(of: jobID)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: JobTokenEvent.self)
        let reader = Task { [client] in
            var lastID = "0-0"
            while !Task.isCancelled {
                do {
                    try await client.withDedicatedConnection { connection in
                        while !Task.isCancelled {
                            let reply = try await connection.send(
                                blockingFor: .seconds(5), "XREAD", "COUNT", 1000, "BLOCK", 5000, "STREAMS", .init(key), .init(lastID))
                            for entry in RedisStreamEntry.parse(reply) {
                                lastID = entry.id
                                guard let attempt = entry.string("a").flatMap({ Int($0) }) else { continue }
                                if entry.fields["end"] != nil {
                                    continuation.yield(.ended(attempt: attempt))
                                } else if let text = entry.string("t") {
                                    continuation.yield(.text(text, attempt: attempt))
                                }
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in reader.cancel() }
        return stream
    }
}
