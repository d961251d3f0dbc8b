import AggregatorCore
import AggregatorWire
import Foundation

/// Decodes and checks a chat request, answering every problem as a 400 whose `param` names the field.
enum ChatRequestValidator {
    static func decode(_ bytes: [UInt8]) throws -> ChatCompletionRequest {
        if let request = try? JSONReader.decode(ChatCompletionRequest.self, from: bytes) {
            try validate(request)
            return request
        }
        // The fast reader refused the body: the reference decoder decides, and names the field when it is bad.
        let request = try decodeStrictly(ChatCompletionRequest.self, from: bytes)
        try validate(request)
        return request
    }

    /// `T` decoded from a body that must be strict JSON: Foundation's decoder alone takes what is not JSON.
    static func decodeStrictly<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        do {
            try JSONReader.validate(bytes)
        } catch let error as JSONReader.Error {
            throw GatewayError.badRequest("We could not parse the JSON body of your request: \(error.description). The body must be a JSON object.")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw badRequest(error)
        } catch {
            throw GatewayError.badRequest("We could not parse the JSON body of your request.")
        }
    }

    static func validate(_ request: ChatCompletionRequest) throws {
        if request.model.isEmpty { throw GatewayError.badRequest("'model' must not be empty.", param: "model") }
        if request.messages.isEmpty {
            throw GatewayError.badRequest("[] is too short - 'messages' needs at least one message.", param: "messages")
        }
        for (i, message) in request.messages.enumerated() {
            switch message.role {
            case .tool where message.toolCallID == nil:
                throw GatewayError.badRequest(
                    "Missing required parameter: 'messages[\(i)].tool_call_id'.", param: "messages[\(i)].tool_call_id")
            case .assistant where message.content == nil && (message.toolCalls?.isEmpty ?? true) && message.extra["function_call"] == nil:
                throw GatewayError.badRequest(
                    "Missing parameter 'content': assistant messages need content unless they have 'tool_calls'.",
                    param: "messages[\(i)].content")
            case .assistant, .function: break
            default:
                if message.content == nil {
                    throw GatewayError.badRequest("Missing required parameter: 'messages[\(i)].content'.", param: "messages[\(i)].content")
                }
            }
        }
        if let t = request.temperature, !(0...2).contains(t) {
            throw GatewayError.badRequest("Invalid 'temperature': \(t) is not between 0 and 2.", param: "temperature")
        }
        if let p = request.topP, !(0...1).contains(p) {
            throw GatewayError.badRequest("Invalid 'top_p': \(p) is not between 0 and 1.", param: "top_p")
        }
        if let n = request.n, n != 1 {
            throw GatewayError.badRequest("Only n=1 is supported by this gateway.", param: "n")
        }
        for limit in [("max_tokens", request.maxTokens), ("max_completion_tokens", request.maxCompletionTokens)] {
            if let value = limit.1, value < 1 {
                throw GatewayError.badRequest("Invalid '\(limit.0)': it must be at least 1.", param: limit.0)
            }
        }
        if let stop = request.stop, stop.count > 4 {
            throw GatewayError.badRequest("'stop' takes at most 4 sequences.", param: "stop")
        }
        for (i, tool) in (request.tools ?? []).enumerated() {
            if let parameters = tool.parameters, parameters.objectValue == nil {
                throw GatewayError.badRequest(
                    "Invalid type for 'tools[\(i)].function.parameters': expected an object, but got \(describe(parameters)) instead.",
                    param: "tools[\(i)].function.parameters")
            }
        }
        let names = request.tools?.map(\.name) ?? []
        for (i, name) in names.enumerated() where !isValidToolName(name) {
            throw GatewayError.badRequest(
                "Invalid 'tools[\(i)].function.name': '\(name)' must be 1 to 64 of a-z, A-Z, 0-9, underscores and dashes.",
                param: "tools[\(i)].function.name")
        }
        if case .function(let name)? = request.toolChoice, !names.contains(name) {
            throw GatewayError.badRequest("Invalid 'tool_choice': no tool named '\(name)' in 'tools'.", param: "tool_choice")
        }
    }

    static func isValidToolName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-") }
    }

    /// `messages[0].role` from a decoding path.
    static func param(_ path: [any CodingKey]) -> String? {
        var out = ""
        for key in path {
            if let i = key.intValue, key.stringValue == String(i) || key.stringValue.hasPrefix("Index") {
                out += "[\(i)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out.isEmpty ? nil : out
    }

    static func badRequest(_ error: DecodingError) -> GatewayError {
        switch error {
        case .keyNotFound(let key, let context):
            let param = Self.param(context.codingPath + [key]) ?? key.stringValue
            return .badRequest("Missing required parameter: '\(param)'.", param: param)
        case .typeMismatch(let type, let context):
            let param = Self.param(context.codingPath)
            return .badRequest("Invalid type for '\(param ?? "body")': expected \(describe(type)).", param: param)
        case .valueNotFound(let type, let context):
            let param = Self.param(context.codingPath)
            return .badRequest("Invalid type for '\(param ?? "body")': expected \(describe(type)), got null.", param: param)
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .badRequest("We could not parse the JSON body of your request. The body must be a JSON object.")
            }
            let param = Self.param(context.codingPath)
            return .badRequest(context.debugDescription.isEmpty ? "Invalid value for '\(param ?? "body")'." : context.debugDescription, param: param)
        @unknown default:
            return .badRequest("We could not parse the JSON body of your request.")
        }
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is [Any].Type: "an array"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : (String(describing: type).contains("Dictionary") ? "an object" : "a value of another type")
        }
    }
}
