import AggregatorCore
import AggregatorWire
import Foundation

/// Tenants as JSON for the CLI (`tenants create --json`, `tenants list --json`).
public enum TenantJSON {
    public static func tenant(_ t: Tenant) -> String {
        var w = JSONWriter()
        write(t, to: &w)
        return w.string
    }

    public static func withKey(_ t: Tenant, key: String) -> String {
        var w = JSONWriter()
        w.object { w in
            w.key("tenant")
            write(t, to: &w)
            w.field("apiKey", key)
        }
        return w.string
    }

    static func write(_ t: Tenant, to w: inout JSONWriter) {
        w.object { w in
            w.field("id", t.id.lowercasedText)
            w.field("name", t.name)
            w.field("active", t.active)
            w.field("keyPrefix", t.keyPrefix)
            w.field("createdAt", RFC3339.string(t.createdAt))
            w.field("updatedAt", RFC3339.string(t.updatedAt))
        }
    }
}

/// RFC 3339 timestamps with milliseconds, UTC.
public enum RFC3339 {
    public static func string(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
