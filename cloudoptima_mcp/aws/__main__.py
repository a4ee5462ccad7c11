from cloudoptima_mcp.aws import main

if __name__ == "__main__":
    main()
