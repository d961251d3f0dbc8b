import AggregatorCore
import Foundation
import Testing

@Suite struct RandomPoolTests {
    @Test func uuidsAreVersion7TimeOrderedAndNeverRepeatAcrossRefills() {
        // 16 bytes each: 10,000 of them cross about 40 refills of the 4 KiB pool.
        let ids = (0..<10_000).map { _ in RandomPool.uuid() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let text = Array(id.uuidString)
            #expect(text[14] == "7", "version nibble of \(id)")
            #expect("89AB".contains(text[19]), "variant of \(id)")
        }
        // The first 48 bits are the Unix time in milliseconds, so ids of later milliseconds sort after earlier ones.
        let at = Date(timeIntervalSince1970: 1_764_000_000.5)
        let id = RandomPool.uuid(at: at)
        #expect(id.uuidString.prefix(13) == "019AB697-E9F4")
        #expect(RandomPool.uuid(at: at).uuidString.lowercased() < RandomPool.uuid(at: at.addingTimeInterval(0.001)).uuidString.lowercased())
    }

    @Test func lowercasedTextIsTheCanonicalLowerCaseForm() throws {
        #expect(try #require(UUID(uuidString: "019AB697-E9F4-7ABC-8DEF-0123456789AF")).lowercasedText == "019ab697-e9f4-7abc-8def-0123456789af")
        for _ in 0..<1_000 {
            let id = UUID()
            #expect(id.lowercasedText == id.uuidString.lowercased())
        }
    }

    @Test func hexIDsHaveThePrefixAndDigits() {
        let ids = (0..<1_000).map { _ in RandomPool.hexID(prefix: "req_", digits: 24) }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.hasPrefix("req_") && id.count == 28)
            #expect(id.dropFirst(4).allSatisfy { "0123456789abcdef".contains($0) })
        }
        // Every digit value turns up: both nibbles of each byte are used.
        #expect(Set(ids.flatMap { $0.dropFirst(4) }).count == 16)
    }
}
