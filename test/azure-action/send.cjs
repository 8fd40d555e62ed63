// Sends one MS.CloudSecurity.CI.ScanResult event exactly as
// Azure/publish-security-assessments does (src/azure/azureAppInsights.ts:
// appInsights.setup(connection string), trackEvent, flush), with the
// Application Insights SDK version the action ships. Usage:
//   VIGIL_CONNECTION_STRING=... node send.cjs '<event properties JSON>'
// Prints the ingestion endpoint's answer.
const appInsights = require('applicationinsights');

appInsights.setup(process.env.VIGIL_CONNECTION_STRING);
const client = appInsights.defaultClient;
client.trackEvent({ name: 'Ms.CloudSecurity.CI.ScanResult', properties: JSON.parse(process.argv[2]) });
client.flush({
  callback: (response) => {
    process.stdout.write(response + '\n');
    process.exit(0);
  },
});
setTimeout(() => {
  process.stderr.write('no answer from the ingestion endpoint\n');
  process.exit(2);
}, 20000).unref();
