// A reference server for bench/oracles.sh: Node's http module with its default (strict) parser,
// answering 200 to every request it accepts.
const http = require("http");
const port = Number(process.argv[2] || 18092);
http
  .createServer((req, res) => {
    req.resume();
    res.end("ok\n");
  })
  .listen(port, "127.0.0.1");
