/* SPDX-License-Identifier: MIT */
/* bench/fi_shm_ep.c [N] -- what one endpoint of libfabric's shm provider
 * costs to open: N times (default 20) a CQ, an AV and an RDM endpoint
 * bound to them and enabled (fi_enable creates the endpoint's /dev/shm
 * region), then closed; prints the mean time and minor page faults per
 * endpoint.  The faults are the region's pages, so how /dev/shm is
 * mounted (huge=within_size or not) shows here (docs/ofi.md, "Setup
 * costs").  Exit 2 if the shm provider is absent. */
#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}
static long minflt(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_minflt;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20, i;
	struct fi_info *h = fi_allocinfo(), *fi = NULL;
	struct fid_fabric *fab;
	struct fid_domain *dom;
	double total = 0;
	long faults = 0;
	if (!h || n < 1) return 1;
	h->fabric_attr->prov_name = strdup("shm");
	h->ep_attr->type = FI_EP_RDM;
	h->caps = FI_RMA | FI_MSG;
	h->mode = FI_CONTEXT;
	h->domain_attr->mr_mode =
	    FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY;
	if (fi_getinfo(FI_VERSION(1, 9), NULL, NULL, 0, h, &fi) != 0) {
		fprintf(stderr, "fi_shm_ep: no shm provider\n");
		return 2;
	}
	if (fi_fabric(fi->fabric_attr, &fab, NULL) ||
	    fi_domain(fab, fi, &dom, NULL))
		return 1;
	for (i = 0; i < n; i++) {
		struct fid_ep *ep;
		struct fid_av *av;
		struct fid_cq *cq;
		struct fi_av_attr aa;
		struct fi_cq_attr ca;
		double t0;
		long f0;
		memset(&aa, 0, sizeof aa);
		memset(&ca, 0, sizeof ca);
		aa.type = FI_AV_TABLE;
		aa.count = 4;
		ca.format = FI_CQ_FORMAT_DATA;
		t0 = now_ms();
		f0 = minflt();
		if (fi_cq_open(dom, &ca, &cq, NULL) ||
		    fi_endpoint(dom, fi, &ep, NULL) ||
		    fi_av_open(dom, &aa, &av, NULL) ||
		    fi_ep_bind(ep, &av->fid, 0) ||
		    fi_ep_bind(ep, &cq->fid, FI_TRANSMIT | FI_RECV) ||
		    fi_enable(ep)) {
			fprintf(stderr, "fi_shm_ep: endpoint %d failed\n", i);
			return 1;
		}
		total += now_ms() - t0;
		faults += minflt() - f0;
		fi_close(&ep->fid);
		fi_close(&av->fid);
		fi_close(&cq->fid);
	}
	printf("shm endpoint: %.3f ms, %ld minor faults (mean of %d)\n",
	       total / n, faults / n, n);
	fi_close(&dom->fid);
	fi_close(&fab->fid);
	fi_freeinfo(fi);
	fi_freeinfo(h);
	return 0;
}
