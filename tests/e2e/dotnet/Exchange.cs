// One operation of the hub through an ASMX client proxy that the wsdl tool generated
// from wsdl/ (class LienThongService), as a .NET integrator would call it:
//   mono exchange.exe URL AGENCY PASSWORD send FILE  -> "RECIPIENT MESSAGE_ID STATE" lines
//   mono exchange.exe URL AGENCY PASSWORD get        -> "MESSAGE_ID SENDER KIND BASE64" lines
//   mono exchange.exe URL AGENCY PASSWORD ack ID...  -> the number acknowledged
//   mono exchange.exe URL AGENCY PASSWORD agencies   -> "CODE NAME" lines (UTF-8)
// A SOAP fault prints "fault CODE". The ASMX client has no WS-Security of its own; like
// most integrators' code, it adds the UsernameToken as a header of its own making (a
// fresh nonce each call).

using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Web.Services.Protocols;
using System.Xml;

public class SignedInService : LienThongService
{
    const string Wsse =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    const string Wsu =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
    const string PasswordText = "http://docs.oasis-open.org/wss/2004/01/"
        + "oasis-200401-wss-username-token-profile-1.0#PasswordText";

    readonly string agency;
    readonly string password;

    public SignedInService(string url, string agency, string password)
    {
        Url = url;
        this.agency = agency;
        this.password = password;
    }

    protected override XmlWriter GetWriterForMessage(SoapClientMessage message, int bufferSize)
    {
        message.Headers.Add(new SoapUnknownHeader { Element = Security() });
        return base.GetWriterForMessage(message, bufferSize);
    }

    XmlElement Security()
    {
        var xml = new XmlDocument();
        var security = xml.CreateElement("wsse", "Security", Wsse);
        var token = Child(security, "UsernameToken", null);
        Child(token, "Username", agency);
        Child(token, "Password", password).SetAttribute("Type", PasswordText);
        var nonce = new byte[16];
        RandomNumberGenerator.Create().GetBytes(nonce);
        Child(token, "Nonce", Convert.ToBase64String(nonce));
        var created = xml.CreateElement("wsu", "Created", Wsu);
        created.InnerText = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
        token.AppendChild(created);
        return security;
    }

    static XmlElement Child(XmlElement parent, string name, string text)
    {
        var child = parent.OwnerDocument.CreateElement("wsse", name, Wsse);
        if (text != null)
            child.InnerText = text;
        parent.AppendChild(child);
        return child;
    }
}

public static class Exchange
{
    public static int Main(string[] args)
    {
        var hub = new SignedInService(args[0], args[1], args[2]);
        Console.OutputEncoding = new UTF8Encoding(false);
        try
        {
            switch (args[3])
            {
                case "send":
                    var sent = hub.SendDocument(
                        new SendDocument { Document = File.ReadAllBytes(args[4]) });
                    foreach (var d in sent.SendDocumentResult.Deliveries)
                        Console.WriteLine($"{d.Recipient} {d.MessageId} {d.State}");
                    break;
                case "get":
                    foreach (var m in hub.GetDocuments(new GetDocuments { MaxCount = "100" }))
                        Console.WriteLine($"{m.MessageId} {m.Sender} {m.Kind} "
                            + Convert.ToBase64String(m.Document));
                    break;
                case "agencies":
                    foreach (var a in hub.GetAgencies(new GetAgencies()))
                        Console.WriteLine($"{a.Code} {a.Name}");
                    break;
                case "ack":
                    var acked = hub.AckDocument(args.Skip(4).ToArray());
                    Console.WriteLine(acked.AckDocumentResult.Acknowledged);
                    break;
                default:
                    Console.Error.WriteLine("unknown operation " + args[3]);
                    return 2;
            }
        }
        catch (SoapException fault)
        {
            Console.WriteLine("fault " + fault.Code.Name);
        }
        return 0;
    }
}
