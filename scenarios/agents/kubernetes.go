package agents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
)

// KubernetesOptions say how to run the agents as the pods of an Indexed
// Job (the objects of Manifest, applied through the API).
type KubernetesOptions struct {
	ManifestOptions
	// Advertise is the IP at which the pods reach this coordinator, which
	// runs outside the cluster: the Service then selects no pods and an
	// EndpointSlice of its own points at Advertise and the coordinator's
	// port. Empty: the coordinator runs in the cluster, in a pod labelled
	// as the Service selects (component coordinator, this run id).
	Advertise string
	// Client is the cluster's API (NewKubernetesClient; client-go's fake
	// dynamic client in tests).
	Client KubeAPI
	Log    *slog.Logger
}

// KubeAPI is the cluster's API as the engine uses it: client-go's dynamic
// client (the typed clientset would double the binary's size for three
// kinds of object).
type KubeAPI = dynamic.Interface

// The kinds of object the engine creates.
var (
	gvrServices       = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrEndpointSlices = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
	gvrJobs           = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
)

// Kubernetes is the engine that applies the agents' Service and Indexed
// Job to a cluster; pod i connects back to its Remote as agent i+1. Close
// deletes what it created.
type Kubernetes struct {
	*Remote
	o       KubernetesOptions
	created []kubeObject
}

// kubeObject is one object the engine created.
type kubeObject struct {
	gvr       schema.GroupVersionResource
	name      string
	propagate *metav1.DeletionPropagation
}

// create creates obj (a typed API object) in the namespace and notes it
// for deletion.
func (k *Kubernetes) create(ctx context.Context, gvr schema.GroupVersionResource, name string, obj any, propagate *metav1.DeletionPropagation) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return fmt.Errorf("kubernetes agents: encode %s %s: %w", gvr.Resource, name, err)
	}
	if _, err := k.o.Client.Resource(gvr).Namespace(k.o.Namespace).Create(ctx, &unstructured.Unstructured{Object: m}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("kubernetes agents: create %s %s/%s: %w", gvr.Resource, k.o.Namespace, name, err)
	}
	k.created = append(k.created, kubeObject{gvr, name, propagate})
	return nil
}

// StartKubernetes creates the Service the agents report to (with an
// EndpointSlice at o.Advertise when the coordinator runs outside the
// cluster) and the Indexed Job of the agents. On error, whatever it
// created is deleted again.
func StartKubernetes(ctx context.Context, remote *Remote, o KubernetesOptions) (_ *Kubernetes, err error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		return nil, errors.New("kubernetes agents: no cluster client")
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("kubernetes agents: %w", err)
	}
	var advertise netip.Addr
	if o.Advertise != "" {
		if advertise, err = netip.ParseAddr(o.Advertise); err != nil {
			return nil, fmt.Errorf("kubernetes agents: --agents-advertise %q: want the IP at which pods reach this machine", o.Advertise)
		}
	}
	k := &Kubernetes{Remote: remote, o: o}
	defer func() {
		if err != nil {
			_ = k.deleteCreated(context.WithoutCancel(ctx))
		}
	}()
	svc := coordinatorService(o.ManifestOptions)
	if advertise.IsValid() {
		svc.Spec.Selector = nil // its endpoints are ours, below
	}
	if err := k.create(ctx, gvrServices, svc.Name, svc, nil); err != nil {
		return nil, err
	}
	if advertise.IsValid() {
		slice, err := coordinatorEndpoints(o.ManifestOptions, advertise, remote.Port())
		if err != nil {
			return nil, err
		}
		if err := k.create(ctx, gvrEndpointSlices, slice.Name, slice, nil); err != nil {
			return nil, err
		}
	}
	job := agentJob(o.ManifestOptions)
	background := metav1.DeletePropagationBackground // its pods go with it
	if err := k.create(ctx, gvrJobs, job.Name, job, &background); err != nil {
		return nil, err
	}
	o.Log.Info("agents started as a Kubernetes Indexed Job", "namespace", o.Namespace, "job", job.Name, "agents", o.Agents)
	return k, nil
}

// coordinatorEndpoints points the coordinator's Service at a coordinator
// outside the cluster: addr and the port it listens on.
func coordinatorEndpoints(o ManifestOptions, addr netip.Addr, port int) (*discoveryv1.EndpointSlice, error) {
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("kubernetes agents: the coordinator's port %d: want 1-65535", port)
	}
	svc, _ := names(o)
	family := discoveryv1.AddressTypeIPv4
	if addr.Is6() && !addr.Is4In6() {
		family = discoveryv1.AddressTypeIPv6
	}
	l := labels(o, "coordinator")
	l[discoveryv1.LabelServiceName] = svc
	l[discoveryv1.LabelManagedBy] = "regify-verify"
	name, proto, p := "agents", corev1.ProtocolTCP, int32(port)
	return &discoveryv1.EndpointSlice{
		TypeMeta:    metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta:  metav1.ObjectMeta{Name: svc, Namespace: o.Namespace, Labels: l},
		AddressType: family,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr.Unmap().String()}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Protocol: &proto, Port: &p}},
	}, nil
}

// Name implements Engine.
func (k *Kubernetes) Name() string { return "kubernetes" }

// Close deletes the Job (its pods with it), the EndpointSlice and the
// Service, and stops listening.
func (k *Kubernetes) Close(ctx context.Context) error {
	err := k.deleteCreated(ctx)
	if k.Remote != nil {
		err = errors.Join(err, k.Remote.Close())
	}
	return err
}

// deleteCreated deletes the created objects, newest first; one already
// gone is no error.
func (k *Kubernetes) deleteCreated(ctx context.Context) error {
	var errs []error
	for i := len(k.created) - 1; i >= 0; i-- {
		c := k.created[i]
		err := k.o.Client.Resource(c.gvr).Namespace(k.o.Namespace).Delete(ctx, c.name, metav1.DeleteOptions{PropagationPolicy: c.propagate})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s %s/%s: %w", c.gvr.Resource, k.o.Namespace, c.name, err))
		}
	}
	k.created = nil
	return errors.Join(errs...)
}

// Port is the port the Remote listens on.
func (r *Remote) Port() int {
	_, p, err := net.SplitHostPort(r.ln.Addr().String())
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// NewKubernetesClient connects to the cluster of a kubeconfig as kubectl
// does: path, else $KUBECONFIG, else ~/.kube/config; kubeContext, else
// the current context. It returns the client and the context's
// namespace. Nothing is sent to the cluster yet.
func NewKubernetesClient(path, kubeContext string) (KubeAPI, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("--engine kubernetes: read the kubeconfig (--kubeconfig, $KUBECONFIG or ~/.kube/config): %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("--engine kubernetes: the kubeconfig's namespace: %w", err)
	}
	cs, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("--engine kubernetes: a client for %s: %w", cfg.Host, err)
	}
	return cs, ns, nil
}
