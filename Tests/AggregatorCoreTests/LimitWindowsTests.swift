import Foundation
import Testing

@testable import AggregatorCore

/// The UTC windows limits count in (SPEC §16), by arithmetic, checked against Foundation's Gregorian calendar.
@Suite struct LimitWindowsTests {
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    @Test("month, month start and time left agree with Calendar every 7 h 13 min from 1900 to 2200, and at each month's edges")
    func agreesWithCalendar() {
        var instants: [Double] = []
        var t = -2_208_988_800.0  // 1900-01-01
        while t < 7_258_118_400 {  // 2200-01-01
            instants.append(t)
            t += 25_980.5
        }
        for year in [1900, 1969, 1970, 2000, 2024, 2028, 2100] {
            for month in 1...12 {
                let first = Self.calendar.date(from: DateComponents(year: year, month: month, day: 1))!.timeIntervalSince1970
                instants += [first - 0.001, first, first + 0.001]
            }
        }
        for t in instants {
            let date = Date(timeIntervalSince1970: t)
            let windows = LimitWindows(date)
            let parts = Self.calendar.dateComponents([.year, .month], from: date)
            let start = Self.calendar.date(from: parts)!
            let next = Self.calendar.date(byAdding: .month, value: 1, to: start)!
            #expect(windows.month == Int64(parts.year! * 12 + parts.month! - 1), "\(date)")
            #expect(LimitWindows.monthStart(date) == start, "\(date)")
            #expect(abs(windows.monthLeft - next.timeIntervalSince(date)) < 1e-6, "\(date)")
        }
    }

    @Test(arguments: [
        (0.0, "0ms"), (0.0004, "1ms"), (0.85, "850ms"), (0.9999, "1s"), (1, "1s"), (12.5, "12.5s"), (12.345, "12.345s"),
        (12.3401, "12.341s"), (1.05, "1.05s"), (1.005, "1.005s"), (59.9995, "1m0s"), (60, "1m0s"), (61.5, "1m1.5s"),
        (3_600, "60m0s"),
    ])
    func goDurations(seconds: Double, text: String) {
        #expect(LimitRefusal.goDuration(seconds) == text)
    }
}
