package catalogue

import (
	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegWrongCertificate: a name gets another name's certificate.
func NegWrongCertificate() scenarios.Scenario {
	return negative("neg-wrong-certificate", "Broken on purpose: the balancer serves the certificate of another name.",
		func(o *harness.Options) { o.Balancer.WrongCertificate = true }, check.NameTLS)
}

func init() { register(250, NegWrongCertificate) }
