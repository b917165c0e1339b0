# nesthv on an AMD-V CPU (--cpu svm): VMRUN into the guest, #VMEXIT back,
# the VMCB by field name, changed fields marked.
vmcb
vmcs
until entry
info world
vmcb
until exit
info world
vmcb
