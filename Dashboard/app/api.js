// GraphQL over HTTP with the session's key.
import { session } from './session.js';

export class APIError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** Runs a query or mutation; resolves to its data or throws APIError with the first error's message. */
export async function gql(query, variables = {}, key = session.key) {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await res.json();
  } catch {
    throw new APIError(`HTTP ${res.status}`, 'HTTP');
  }
  if (body.errors?.length) {
    const [first] = body.errors;
    const code = first.extensions?.code;
    if (code === 'UNAUTHENTICATED' && key === session.key) window.dispatchEvent(new Event('agg:signed-out'));
    throw new APIError(first.message, code);
  }
  if (!res.ok) throw new APIError(body.error?.message || `HTTP ${res.status}`, 'HTTP');
  return body.data;
}

/** The error body of a non-GraphQL API answer (OpenAI's {"error": {"message"}}), as text. */
export async function errorText(res) {
  try {
    const body = await res.json();
    return body.error?.message || `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}
