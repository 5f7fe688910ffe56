// Reunify's GraphiQL (development mode only): queries and mutations over HTTP, subscriptions over
// graphql-transport-ws on the same endpoint, the token from the Headers tab. Everything this page
// loads comes from the Reunify binary itself.
(function () {
  'use strict';
  var endpoint = new URL('/graphql', window.location.href);
  var socketUrl = (endpoint.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + endpoint.host + endpoint.pathname;
  var http = GraphiQL.createFetcher({ url: endpoint.href });
  // One socket per token: the token travels in connection_init, once per socket.
  var sockets = new Map();

  function authorization(headers) {
    for (var name in headers || {}) {
      if (name.toLowerCase() === 'authorization') return String(headers[name]);
    }
    return '';
  }

  function socket(token) {
    if (!sockets.has(token)) {
      sockets.set(token, graphqlWs.createClient({
        url: socketUrl,
        connectionParams: { Authorization: token },
        lazy: true,
      }));
    }
    return sockets.get(token);
  }

  // Whether the operation run is a subscription: from GraphiQL's parsed document when it is the
  // one being run (it can lag behind the editor), else from the text.
  function isSubscription(params, options) {
    var query = params.query || '';
    var doc = options && options.documentAST;
    if (!doc || !doc.loc || doc.loc.source.body !== query) {
      var text = query.replace(/#[^\n\r]*/g, '');
      if (params.operationName) {
        return new RegExp('\\bsubscription\\s+' + params.operationName + '\\b').test(text);
      }
      return /^\s*subscription\b/.test(text);
    }
    var ops = doc.definitions.filter(function (d) { return d.kind === 'OperationDefinition'; });
    var op = ops.find(function (d) {
      return params.operationName ? d.name && d.name.value === params.operationName : true;
    });
    return Boolean(op) && op.operation === 'subscription';
  }

  function fetcher(params, options) {
    if (isSubscription(params, options)) {
      return socket(authorization(options && options.headers)).iterate(params);
    }
    return http(params, options);
  }

  var hint = JSON.stringify({
    Authorization: 'Bearer <paste the output of: reunify token --la 999 --role social_worker>',
  }, null, 2);
  var start = '# Reunify, development mode: the demo LA 999.\n' +
    '# 1. A token, in a terminal:\n' +
    '#      cargo run --release -- token --la 999 --role social_worker\n' +
    '# 2. In the Headers tab below: {"Authorization": "Bearer <token>"}\n' +
    '# 3. Run this (Ctrl-Enter). Subscriptions run here too:\n' +
    '#      subscription { caseEvents(after: "0") { position type } }\n' +
    '{\n  cases(first: 5) {\n    totalCount\n    nodes { id stage status }\n  }\n}\n';

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: start,
      defaultHeaders: hint,
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: true,
    })
  );
})();
