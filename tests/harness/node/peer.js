// An independent Bayeux peer for the harness's tests: the official CometD Node server, plus a tiny
// control API. Prints "PORT <n>" once listening on 127.0.0.1.
//   POST /cometd              the Bayeux endpoint
//   POST /control/publish?channel=/c&count=N&start=S   publishes {seq: S..S+N-1} in order
//   POST /control/forget?clientId=ID                   drops the session (its next connect gets 402)
'use strict';
const http = require('http');
const url = require('url');
const cometd = require('cometd-nodejs-server');

const timeout = parseInt(process.env.PEER_TIMEOUT_MS || '3000', 10);
const server = cometd.createCometDServer({ timeout: timeout, maxInterval: 10000 });

function control(req, res, parsed) {
    const q = parsed.query;
    if (parsed.pathname === '/control/publish') {
        const channel = server.createServerChannel(q.channel);
        const start = parseInt(q.start || '0', 10);
        const count = parseInt(q.count || '1', 10);
        for (let i = start; i < start + count; i++) {
            channel.publish(null, { seq: i });
        }
        res.end(JSON.stringify({ published: count, subscribers: channel.subscribers.length }));
    } else if (parsed.pathname === '/control/forget') {
        const session = server.getServerSession(q.clientId);
        if (session) {
            session.disconnect();
        }
        res.end(JSON.stringify({ forgot: Boolean(session) }));
    } else {
        res.statusCode = 404;
        res.end('{}');
    }
}

const httpServer = http.createServer((req, res) => {
    const parsed = url.parse(req.url, true);
    if (parsed.pathname.startsWith('/control/')) {
        req.resume();
        req.on('end', () => control(req, res, parsed));
    } else {
        server.handle(req, res);
    }
});
httpServer.listen(0, '127.0.0.1', () => {
    process.stdout.write('PORT ' + httpServer.address().port + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
