// Official CometD JavaScript client against the reference server: handshake on the agent's
// session cookie, subscribe, print each notification's data as one JSON line, stop after N.
// Usage: node listen.mjs <notifications-url> <cookie> <channel> <count> <timeout-ms>
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";

adapt();
const [url, cookie, channel, count, timeoutMs] = process.argv.slice(2);
const out = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const cometd = new CometD();
cometd.unregisterTransport("websocket");
cometd.configure({ url, requestHeaders: { Cookie: cookie }, logLevel: "warn" });

const timer = setTimeout(() => {
    out({ event: "timeout" });
    process.exit(1);
}, Number(timeoutMs));
let seen = 0;

cometd.handshake((reply) => {
    if (!reply.successful) {
        out({ event: "error", reply });
        process.exit(1);
    }
    cometd.subscribe(channel, (message) => {
        out({ event: "message", data: message.data });
        seen += 1;
        if (seen >= Number(count)) {
            cometd.disconnect(() => {
                clearTimeout(timer);
                out({ event: "done" });
                process.exit(0);
            });
        }
    }, (subscribed) => {
        out(subscribed.successful ? { event: "subscribed" } : { event: "error", reply: subscribed });
    });
});
