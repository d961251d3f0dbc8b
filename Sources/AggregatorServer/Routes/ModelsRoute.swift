import AggregatorCore
import AggregatorWire
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /v1/models` and `GET /v1/models/{id}` (ids contain a slash: `stub/echo`). Asked with `anthropic-version`
/// (an Anthropic SDK, Claude Code's model discovery), they answer in Anthropic's shape (SPEC §15, WIRE §2.6).
struct ModelsRoute {
    let catalog: ModelCatalog

    func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        let models = await catalog.models()
        if request.headers[.anthropicVersion] != nil { return Self.json(AnthropicModelList(models: models)) }
        return Self.json(ModelList(data: models))
    }

    func one(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        let prefix = "/v1/models/"
        let path = request.uri.path
        let id = String(path.dropFirst(prefix.count)).removingPercentEncoding ?? ""
        guard let model = await catalog.models().first(where: { $0.id == id }) else { throw GatewayError.modelNotFound(id) }
        if request.headers[.anthropicVersion] != nil { return Self.json(AnthropicModelList.Entry(model: model)) }
        return Self.json(model)
    }

    static func json(_ value: some JSONWritable) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value.jsonBytes)))
    }
}

/// Anthropic's model list: `{data:[{type,id,display_name,created_at}],has_more,first_id,last_id}`, every model on
/// one page (Claude Code asks for `limit=1000`).
struct AnthropicModelList: JSONWritable {
    let models: [ModelObject]

    struct Entry: JSONWritable {
        let model: ModelObject

        func write(to w: inout JSONWriter) {
            w.object { w in
                w.field("type", "model")
                w.field("id", model.id)
                w.field("display_name", model.id)
                w.field("created_at", Date(timeIntervalSince1970: TimeInterval(model.created)).formatted(.iso8601))
            }
        }
    }

    func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("data")
            w.array { w in for model in models { Entry(model: model).write(to: &w) } }
            w.field("has_more", false)
            w.field("first_id", models.first?.id)
            w.field("last_id", models.last?.id)
        }
    }
}
