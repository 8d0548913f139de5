# /etc/profile.d/tmout.sh: log idle shells out after 15 minutes (CIS 5.4.3.2 style)
TMOUT=900
readonly TMOUT
export TMOUT
