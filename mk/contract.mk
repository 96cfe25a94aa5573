# mk/contract.mk -- the backend contract (issue 21), run by test-core:
#  - shm:// in copy mode (FABTX_SHM_MODE=copy: not DIRECT, so the core's
#    whole RDMA path: staging, runs, skips, hints, credits by write), its
#    suites and examples, and fault trials with the shm knobs plus
#    FABTX_SHM_WRITE_EAGAIN, and test_hostile (its raw peers speak the
#    process's mode: their window key and notifications say copy);
#  - scripts/check_backend_api.sh: no backend header uses a core
#    identifier outside the documented backend API (and its self-test).
test-core: $(B)/fault_trials_shm
CORE_EXTRA += "FABTX_SHM_MODE=copy $(B)/test_shm" \
	"FABTX_SHM_MODE=copy $(B)/test_wakeup" \
	"FABTX_SHM_MODE=copy $(B)/test_hostile" \
	"FABTX_SHM_MODE=copy bash test/examples.sh $(B)" \
	"FABTX_SHM_MODE=copy TT_TIMEOUT_S=600 $(B)/fault_trials_shm 3" \
	"FABTX_SHM_MODE=copy FABTX_SHM_FAULT_SEED=7 FABTX_SHM_EAGAIN=300 FABTX_SHM_DROP_DB=100 FABTX_SHM_DUP_DB=50 FABTX_SHM_WRITE_EAGAIN=300 TT_TIMEOUT_S=600 $(B)/fault_trials_shm 3" \
	"sh scripts/check_backend_api.sh" \
	"sh scripts/check_backend_api.sh --self-test"
