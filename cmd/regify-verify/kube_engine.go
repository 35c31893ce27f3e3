package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/agents"
)

// kubeFlags are the flags of --engine kubernetes.
type kubeFlags struct {
	kubeconfig, context, namespace string
	image, advertise               string
}

func (k *kubeFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "with --engine kubernetes: the kubeconfig (default $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&k.context, "kube-context", "", "with --engine kubernetes: the kubeconfig context (default its current one)")
	fs.StringVar(&k.namespace, "namespace", "", "with --engine kubernetes: where the agents' Job and Service go (default the context's namespace)")
	fs.StringVar(&k.image, "agent-image", "", "with --engine kubernetes: the regify-verify image the cluster pulls ('images build' makes one; push it where the cluster pulls from)")
	fs.StringVar(&k.advertise, "agents-advertise", "", "with --engine kubernetes: the IP at which pods reach this machine (the Service then points there); empty when this coordinator runs in the cluster as the pod the Service selects")
}

// kubernetesDriver applies the agents' Service and Indexed Job to the
// kubeconfig's cluster; they connect back to a Remote on --agents-listen.
func kubernetesDriver(ctx context.Context, o agentOptions, e *env) (_ scenarios.LoadDriver, done func(), _ error) {
	done = func() {}
	if o.kube.image == "" {
		return nil, done, errors.New("--engine kubernetes needs --agent-image: the regify-verify image the cluster pulls ('regify-verify images build' makes one FROM scratch; push it where the cluster pulls from)")
	}
	host, p, err := net.SplitHostPort(o.listen)
	if err != nil {
		return nil, done, fmt.Errorf("--agents-listen %q: want host:port", o.listen)
	}
	if ip := net.ParseIP(host); o.kube.advertise != "" && ip != nil && ip.IsLoopback() {
		return nil, done, fmt.Errorf("--engine kubernetes: --agents-listen %s is a loopback address, which pods cannot reach at %s; listen on %s", o.listen, o.kube.advertise, net.JoinHostPort(o.kube.advertise, p))
	}
	if port, _ := strconv.Atoi(p); port == 0 {
		return nil, done, fmt.Errorf("--engine kubernetes: --agents-listen %s: choose a fixed port; the Service forwards it", o.listen)
	}
	cs, ns, err := agents.NewKubernetesClient(o.kube.kubeconfig, o.kube.context)
	if err != nil {
		return nil, done, err
	}
	if o.kube.namespace != "" {
		ns = o.kube.namespace
	}
	r, err := agents.NewRemote(o.listen, 5*time.Minute)
	if err != nil {
		return nil, done, err
	}
	k, err := agents.StartKubernetes(ctx, r, agents.KubernetesOptions{
		ManifestOptions: agents.ManifestOptions{Agents: o.n, Image: o.kube.image, RunID: o.runID, Namespace: ns, Port: r.Port()},
		Advertise:       o.kube.advertise, Client: cs, Log: e.log,
	})
	if err != nil {
		_ = r.Close()
		return nil, done, err
	}
	// A pod is never this machine: it sends from its own address.
	return agents.Driver{Agents: o.n, Engine: k, OwnAddress: true, Log: e.log}, func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := k.Close(cctx); err != nil {
			e.log.Warn("delete the agents' Kubernetes objects", "err", err)
		}
	}, nil
}
