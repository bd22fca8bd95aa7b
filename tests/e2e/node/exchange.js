// One operation of the hub through node-soap, as a Node.js integrator would call it:
//   node exchange.js WSDL_URL AGENCY PASSWORD OPERATION JSON_ARGUMENT [PasswordDigest]
// Prints {"result": ...} or, for a SOAP fault, {"fault": {"faultcode", "faultstring"}}.
'use strict';
const soap = require('soap');

async function main() {
  const [wsdl, agency, password, operation, argument, passwordType = 'PasswordText'] =
    process.argv.slice(2);
  const client = await soap.createClientAsync(wsdl);
  client.setSecurity(new soap.WSSecurity(agency, password, {
    passwordType, hasNonce: true, hasTimeStamp: false,
  }));
  try {
    const [result] = await client[`${operation}Async`](JSON.parse(argument));
    return { result };
  } catch (error) {
    const fault = error.root && error.root.Envelope && error.root.Envelope.Body.Fault;
    if (!fault) throw error;
    return { fault: { faultcode: fault.faultcode, faultstring: fault.faultstring } };
  }
}

main().then(
  (outcome) => process.stdout.write(JSON.stringify(outcome)),
  (error) => { process.stderr.write(`${error.stack || error}\n`); process.exit(1); },
);
