from mcp_servers.aws import main

if __name__ == "__main__":
    main()
