package check

import "strings"

// PlainReason turns a transport error into a sentence an operator can act
// on, keeping the original text after it.
func PlainReason(err string) string {
	var why string
	switch {
	case err == "":
		return ""
	case strings.Contains(err, "connection refused"):
		why = "nothing listens there (connection refused): is the balancer running, is domains[].address its public IP and the URL's port right?"
	case strings.Contains(err, "no such host"):
		why = "the name does not resolve: give the public IP as domains[].address"
	case strings.Contains(err, "certificate signed by unknown authority"), strings.Contains(err, "certificate is not trusted"):
		why = "the certificate does not verify: its issuer is neither a system root nor in tls.ca_file"
	case strings.Contains(err, "certificate is valid for"), strings.Contains(err, "certificate is not valid for"):
		why = "the certificate is for another name: the balancer serves the wrong certificate for this name"
	case strings.Contains(err, "certificate has expired"), strings.Contains(err, "expired"):
		why = "the certificate has expired"
	case strings.Contains(err, "i/o timeout"), strings.Contains(err, "deadline exceeded"), strings.Contains(err, "Client.Timeout"):
		why = "no answer in time: a firewall drops the packets, the address is wrong, or the service hangs"
	case strings.Contains(err, "connection reset"), strings.Contains(err, "EOF"):
		why = "the connection was closed without an answer: the balancer has no healthy backend or speaks another protocol on this port"
	case strings.Contains(err, "server gave HTTP response to HTTPS client"), strings.Contains(err, "first record does not look like a TLS handshake"):
		why = "plain HTTP answered on the https port: TLS is not terminated there"
	case strings.Contains(err, "cannot assign requested address"):
		why = "a source IP of clients.source_ips is not an address of this machine"
	default:
		return err
	}
	return why + " (" + err + ")"
}
