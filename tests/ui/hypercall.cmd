# From boot to the guest kernel's first hypercall, into nesthv and back.
info world
until hypercall
info world
log 1
until entry
info world
until hypercall mmu_update
regs
