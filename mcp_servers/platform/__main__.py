from mcp_servers.platform import main

if __name__ == "__main__":
    main()
