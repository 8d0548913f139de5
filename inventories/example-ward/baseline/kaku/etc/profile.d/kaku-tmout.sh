# 架空区Linux基盤標準 v3.2 (Ansible管理: 手で編集しないこと)
# 無操作10分でシェルを終了する (ACC-11)。
TMOUT=600
readonly TMOUT
export TMOUT
