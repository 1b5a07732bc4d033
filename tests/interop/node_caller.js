// A Node service instrumented with the AWS X-Ray SDK: one segment whose captured HTTP call
// goes to the URL given as the first argument. With "unsampled" as the second argument the
// segment is not traced, so the call carries Sampled=0.
// Sends its documents to AWS_XRAY_DAEMON_ADDRESS.
const AWSXRay = require('aws-xray-sdk-core');
const http = AWSXRay.captureHTTPs(require('http'));
AWSXRay.middleware.disableCentralizedSampling();
AWSXRay.enableManualMode();

const url = new URL(process.argv[2]);
const segment = new AWSXRay.Segment('node-caller');
if (process.argv[3] === 'unsampled') {
  segment.notTraced = true;
}

http.get({ host: url.hostname, port: url.port, path: url.pathname, XRaySegment: segment }, (res) => {
  res.resume();
  res.on('end', () => {
    segment.close();
    console.log(`STATUS ${res.statusCode}`);
    setTimeout(() => process.exit(0), 200); // let the UDP send leave
  });
}).on('error', (err) => {
  console.error(err);
  process.exit(1);
});
