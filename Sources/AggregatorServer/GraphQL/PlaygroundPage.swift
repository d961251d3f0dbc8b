/// The GraphiQL page at `/playground` (the one page allowed to load from a CDN). Queries go to
/// `POST /graphql` and subscriptions over `graphql-transport-ws`, both with the key typed into the page.
enum PlaygroundPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>AI Aggregator · GraphQL playground</title>
          <link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css">
          <style>
            html, body { height: 100%; margin: 0; font-family: system-ui, sans-serif; }
            body { display: flex; flex-direction: column; }
            header { display: flex; gap: .5rem; align-items: center; padding: .4rem .8rem; border-bottom: 1px solid #ddd; }
            header input { flex: 1; max-width: 32rem; font-family: monospace; }
            #graphiql { flex: 1; min-height: 0; }
          </style>
        </head>
        <body>
          <header>
            <strong>AI Aggregator</strong>
            <label for="key">API key</label>
            <input id="key" type="password" placeholder="sk-agg-… or the admin key" autocomplete="off">
          </header>
          <div id="graphiql">Loading GraphiQL…</div>
          <script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
          <script crossorigin src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
          <script crossorigin src="https://unpkg.com/graphql-ws@5.16.0/umd/graphql-ws.min.js"></script>
          <script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
          <script>
            const keyInput = document.getElementById('key');
            keyInput.value = localStorage.getItem('aggregator.key') || '';
            const key = () => keyInput.value.trim();
            const wsURL = location.origin.replace(/^http/, 'ws') + '/graphql';
            let wsClient = null;
            const socket = () => {
              if (!wsClient) {
                wsClient = graphqlWs.createClient({ url: wsURL, connectionParams: () => ({ Authorization: 'Bearer ' + key() }) });
              }
              return wsClient;
            };
            keyInput.addEventListener('change', () => {
              localStorage.setItem('aggregator.key', key());
              if (wsClient) { wsClient.dispose(); wsClient = null; }
            });
            const isSubscription = (params) => /^\s*subscription\b/m.test(params.query || '') ||
              (params.operationName && new RegExp('subscription\\s+' + params.operationName + '\\b').test(params.query || ''));
            const fetcher = (params) => {
              if (isSubscription(params)) {
                return { [Symbol.asyncIterator]: () => socket().iterate(params)[Symbol.asyncIterator]() };
              }
              return fetch('/graphql', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + key() },
                body: JSON.stringify(params),
              }).then((r) => r.json());
            };
            ReactDOM.createRoot(document.getElementById('graphiql')).render(
              React.createElement(GraphiQL, { fetcher, defaultQuery: '{\n  me { id name }\n  jobs(first: 5) { totalCount edges { node { id status model cost } } }\n}\n' })
            );
          </script>
        </body>
        </html>
        """#
}
