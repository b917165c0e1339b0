# A breakpoint on a guest symbol stops in the guest's world only; nexti
# steps over a hypercall (INT 0x82) as over a call.
break guest:task_syscall
break hv_panic
info break
continue
info world
delete 1
until hypercall
stepi 3
until syscall
