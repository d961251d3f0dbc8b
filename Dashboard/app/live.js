// GraphQL subscriptions over one WebSocket (graphql-transport-ws), reconnecting by itself. The header shows
// its state; after a reconnect every page refetches, since missed events are not replayed.
import { session } from './session.js';

const RETRY_CODES = new Set([4401, 4403]);

class Live extends EventTarget {
  constructor() {
    super();
    this.state = 'connecting';
    this.subs = new Map();
    this.nextID = 1;
    this.socket = null;
    this.retries = 0;
    this.timer = null;
    this.heartbeat = null;
    this.everLive = false;
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new Event('state'));
  }

  /** Opens the socket for the session's key (again after a sign-in). */
  start() {
    this.stop();
    this.connect();
  }

  stop() {
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close(1000);
      this.socket = null;
    }
    this.everLive = false;
    this.setState('connecting');
  }

  connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
    const socket = new WebSocket(url, 'graphql-transport-ws');
    this.socket = socket;
    let waitingPong = false;
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${session.key}` } }));
    socket.onmessage = (message) => {
      const msg = JSON.parse(message.data);
      switch (msg.type) {
        case 'connection_ack': {
          this.retries = 0;
          const recovered = this.everLive;
          this.everLive = true;
          for (const [id, sub] of this.subs) this.send(id, sub);
          this.setState('live');
          if (recovered) this.dispatchEvent(new Event('recovered'));
          this.heartbeat = setInterval(() => {
            if (waitingPong) { socket.close(4499, 'no pong'); return; }
            waitingPong = true;
            socket.send(JSON.stringify({ type: 'ping' }));
          }, 15000);
          break;
        }
        case 'ping': socket.send(JSON.stringify({ type: 'pong' })); break;
        case 'pong': waitingPong = false; break;
        case 'next': this.subs.get(msg.id)?.onData(msg.payload.data); break;
        default: break;
      }
    };
    socket.onclose = (close) => {
      clearInterval(this.heartbeat);
      if (this.socket !== socket) return;
      this.socket = null;
      if (RETRY_CODES.has(close.code)) {
        window.dispatchEvent(new Event('agg:signed-out'));
        return;
      }
      this.setState(this.everLive ? 'reconnecting' : 'connecting');
      const delay = Math.min(1000 * 2 ** this.retries, 8000) + Math.random() * 300;
      this.retries += 1;
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  send(id, sub) {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: sub.query, variables: sub.variables } }));
  }

  /** Subscribes; returns the function that ends the subscription. */
  subscribe(query, variables, onData) {
    const id = String(this.nextID++);
    const sub = { query, variables, onData };
    this.subs.set(id, sub);
    if (this.state === 'live') this.send(id, sub);
    return () => {
      this.subs.delete(id);
      if (this.state === 'live' && this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ id, type: 'complete' }));
    };
  }
}

export const live = new Live();
