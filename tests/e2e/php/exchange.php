<?php
// One operation of the hub through PHP's SoapClient, which reads the served WSDL:
//   php exchange.php WSDL_URL AGENCY PASSWORD send FILE  -> "RECIPIENT MESSAGE_ID STATE" lines
//   php exchange.php WSDL_URL AGENCY PASSWORD get        -> "MESSAGE_ID SENDER KIND BASE64" lines
//   php exchange.php WSDL_URL AGENCY PASSWORD ack ID...  -> the number acknowledged
//   php exchange.php WSDL_URL AGENCY PASSWORD agencies   -> "CODE NAME" lines (UTF-8)
// A SOAP fault prints "fault CODE". SoapClient has no WS-Security of its own; like most
// integrators' code, this adds the UsernameToken as a header of its own making (a fresh
// nonce each call).

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const PASSWORD_TEXT = 'http://docs.oasis-open.org/wss/2004/01/'
    . 'oasis-200401-wss-username-token-profile-1.0#PasswordText';

function security_header(string $agency, string $password): SoapHeader
{
    $text = fn (string $value) => htmlspecialchars($value, ENT_XML1 | ENT_QUOTES, 'UTF-8');
    $created = gmdate('Y-m-d\TH:i:s\Z');
    $token = '<wsse:Security xmlns:wsse="' . WSSE . '" xmlns:wsu="' . WSU . '">'
        . '<wsse:UsernameToken><wsse:Username>' . $text($agency) . '</wsse:Username>'
        . '<wsse:Password Type="' . PASSWORD_TEXT . '">' . $text($password) . '</wsse:Password>'
        . '<wsse:Nonce>' . base64_encode(random_bytes(16)) . '</wsse:Nonce>'
        . '<wsu:Created>' . $created . '</wsu:Created>'
        . '</wsse:UsernameToken></wsse:Security>';
    return new SoapHeader(WSSE, 'Security', new SoapVar($token, XSD_ANYXML));
}

[, $wsdl, $agency, $password, $operation] = $argv;
// A repeated element is a list even when it occurs once (not an object), as integrators
// usually ask; an absent one is no property at all.
// SOAP_COMPRESSION=gzip or deflate: every request is sent compressed that way (a
// compression level in the option does that), and compressed answers are accepted.
$options = ['cache_wsdl' => WSDL_CACHE_NONE, 'features' => SOAP_SINGLE_ELEMENT_ARRAYS];
$coding = getenv('SOAP_COMPRESSION');
if ($coding !== false && $coding !== '') {
    $kind = $coding === 'deflate' ? SOAP_COMPRESSION_DEFLATE : SOAP_COMPRESSION_GZIP;
    $options['compression'] = SOAP_COMPRESSION_ACCEPT | $kind | 1;
}
$hub = new SoapClient($wsdl, $options);
$hub->__setSoapHeaders([security_header($agency, $password)]);
try {
    switch ($operation) {
        case 'send':
            $sent = $hub->SendDocument(['Document' => file_get_contents($argv[5])]);
            foreach ($sent->SendDocumentResult->Deliveries as $d) {
                echo "{$d->Recipient} {$d->MessageId} {$d->State}\n";
            }
            break;
        case 'get':
            $inbox = $hub->GetDocuments(['MaxCount' => 100]);
            foreach ($inbox->ReceivedDocument ?? [] as $m) {
                echo "{$m->MessageId} {$m->Sender} {$m->Kind} " . base64_encode($m->Document) . "\n";
            }
            break;
        case 'agencies':
            foreach ($hub->GetAgencies([])->Agency ?? [] as $a) {
                echo "{$a->Code} {$a->Name}\n";
            }
            break;
        case 'ack':
            $acked = $hub->AckDocument(['MessageIds' => array_slice($argv, 5)]);
            echo "{$acked->AckDocumentResult->Acknowledged}\n";
            break;
        default:
            fwrite(STDERR, "unknown operation $operation\n");
            exit(2);
    }
} catch (SoapFault $fault) {
    echo "fault " . preg_replace('/^.*:/', '', $fault->faultcode) . "\n";
}
