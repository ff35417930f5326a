// Handlers for LambdaNodeRuntimeTest, run by the official Node.js runtime interface client
// (aws-lambda-ric), unmodified: `npx aws-lambda-ric index.HANDLER` in this directory.

// A buffered handler: an HTTP API event in, a proxy response out.
export const buffered = async (event, context) => {
  console.log(`buffered handler saw ${event.rawPath}`);
  return {
    statusCode: 201,
    headers: { "x-runtime": "node", "content-type": "application/json" },
    body: JSON.stringify({
      rawPath: event.rawPath,
      method: event.requestContext.http.method,
      body: event.body ?? null,
      function: context.functionName,
      requestId: context.awsRequestId,
    }),
  };
};

// A streaming handler for a function URL: the status and headers in the prelude, then the body in
// pieces, with a pause between them so that they arrive at the client one by one.
export const streaming = awslambda.streamifyResponse(async (event, responseStream) => {
  const pieces = Number(event.queryStringParameters?.pieces ?? 3);
  const size = Number(event.queryStringParameters?.size ?? 0);
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 207,
    headers: { "content-type": "text/plain", "x-streamed": "yes" },
    cookies: ["flavour=oat; Path=/"],
  });
  for (let i = 0; i < pieces; i++) {
    stream.write(size > 0 ? "x".repeat(size) : `piece ${i}\n`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  stream.end();
});

// A streaming handler that fails after its first piece: the client's response is cut off.
export const streamingFails = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 200,
    headers: { "content-type": "text/plain" },
  });
  stream.write("first piece\n");
  await new Promise((resolve) => setTimeout(resolve, 50));
  throw new Error("broke mid-stream");
});

// A streaming handler that fails before writing anything: a plain 500.
export const streamingFailsEarly = awslambda.streamifyResponse(async () => {
  throw new TypeError("failed before the first byte");
});
