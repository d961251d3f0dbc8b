import AggregatorCore
import AggregatorWire
import HTTPTypes
import Hummingbird

/// `GET /v1/models` and `GET /v1/models/{id}` (ids contain a slash: `stub/echo`).
struct ModelsRoute {
    let catalog: ModelCatalog

    func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        return Self.json(ModelList(data: await catalog.models()))
    }

    func one(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        let prefix = "/v1/models/"
        let path = request.uri.path
        let id = String(path.dropFirst(prefix.count)).removingPercentEncoding ?? ""
        guard let model = await catalog.models().first(where: { $0.id == id }) else { throw GatewayError.modelNotFound(id) }
        return Self.json(model)
    }

    static func json(_ value: some JSONWritable) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value.jsonBytes)))
    }
}
