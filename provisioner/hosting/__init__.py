"""Web hosting: accounts, quotas, FTP, subdomains and WordPress, run through playbooks/."""
