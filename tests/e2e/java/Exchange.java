// One operation of the hub through a JAX-WS client that wsimport generated from wsdl/
// (package "generated"), as a Java integrator would call it:
//   java Exchange WSDL_URL AGENCY PASSWORD send FILE    -> "RECIPIENT MESSAGE_ID STATE" lines
//   java Exchange WSDL_URL AGENCY PASSWORD get          -> "MESSAGE_ID SENDER KIND BASE64" lines
//   java Exchange WSDL_URL AGENCY PASSWORD ack ID...    -> the number acknowledged
//   java Exchange WSDL_URL AGENCY PASSWORD agencies     -> "CODE NAME" lines (UTF-8)
// A SOAP fault prints "fault CODE". JAX-WS has no WS-Security of its own; like most
// integrators' code, a handler adds the UsernameToken (a fresh nonce each call).

import generated.AckResult;
import generated.AgencyInfo;
import generated.Delivery;
import generated.LienThongGateway;
import generated.LienThongService;
import generated.ReceivedDocument;
import generated.SendResult;
import java.io.PrintStream;
import java.math.BigInteger;
import java.net.URL;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import javax.xml.namespace.QName;
import javax.xml.soap.SOAPElement;
import javax.xml.soap.SOAPEnvelope;
import javax.xml.soap.SOAPException;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.handler.Handler;
import javax.xml.ws.handler.MessageContext;
import javax.xml.ws.handler.soap.SOAPHandler;
import javax.xml.ws.handler.soap.SOAPMessageContext;
import javax.xml.ws.soap.SOAPFaultException;

public class Exchange {
    static final String WSSE =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    static final String WSU =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
    static final String PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/"
        + "oasis-200401-wss-username-token-profile-1.0#PasswordText";

    /** Adds a WS-Security UsernameToken to every outgoing request. */
    static class UsernameToken implements SOAPHandler<SOAPMessageContext> {
        private final String agency;
        private final String password;

        UsernameToken(String agency, String password) {
            this.agency = agency;
            this.password = password;
        }

        public Set<QName> getHeaders() {
            return Collections.emptySet();
        }

        public void close(MessageContext context) {}

        public boolean handleFault(SOAPMessageContext context) {
            return true;
        }

        public boolean handleMessage(SOAPMessageContext context) {
            if (!(Boolean) context.get(MessageContext.MESSAGE_OUTBOUND_PROPERTY)) {
                return true;
            }
            try {
                SOAPEnvelope envelope = context.getMessage().getSOAPPart().getEnvelope();
                if (envelope.getHeader() == null) {
                    envelope.addHeader();
                }
                SOAPElement token = envelope.getHeader()
                    .addChildElement("Security", "wsse", WSSE)
                    .addChildElement("UsernameToken", "wsse");
                token.addChildElement("Username", "wsse").addTextNode(agency);
                token.addChildElement("Password", "wsse")
                    .addAttribute(new QName("Type"), PASSWORD_TEXT)
                    .addTextNode(password);
                byte[] nonce = new byte[16];
                new SecureRandom().nextBytes(nonce);
                token.addChildElement("Nonce", "wsse")
                    .addTextNode(Base64.getEncoder().encodeToString(nonce));
                token.addChildElement("Created", "wsu", WSU).addTextNode(Instant.now().toString());
            } catch (SOAPException e) {
                throw new IllegalStateException(e);
            }
            return true;
        }
    }

    public static void main(String[] args) throws Exception {
        LienThongGateway hub = new LienThongService(new URL(args[0])).getLienThongGateway();
        List<Handler> handlers = ((BindingProvider) hub).getBinding().getHandlerChain();
        handlers.add(new UsernameToken(args[1], args[2]));
        ((BindingProvider) hub).getBinding().setHandlerChain(handlers);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try {
            switch (args[3]) {
                case "send":
                    SendResult sent = hub.sendDocument(Files.readAllBytes(Paths.get(args[4])));
                    for (Delivery d : sent.getDeliveries()) {
                        System.out.println(
                            d.getRecipient() + " " + d.getMessageId() + " " + d.getState().value());
                    }
                    break;
                case "get":
                    for (ReceivedDocument m : hub.getDocuments(BigInteger.valueOf(100))) {
                        System.out.println(m.getMessageId() + " " + m.getSender() + " "
                            + m.getKind().value() + " "
                            + Base64.getEncoder().encodeToString(m.getDocument()));
                    }
                    break;
                case "agencies":
                    for (AgencyInfo a : hub.getAgencies(null, null, null)) {
                        out.println(a.getCode() + " " + a.getName());
                    }
                    break;
                case "ack":
                    AckResult acked = hub.ackDocument(List.of(args).subList(4, args.length));
                    System.out.println(acked.getAcknowledged());
                    break;
                default:
                    throw new IllegalArgumentException("unknown operation " + args[3]);
            }
        } catch (SOAPFaultException fault) {
            System.out.println("fault " + fault.getFault().getFaultCodeAsQName().getLocalPart());
        }
    }
}
